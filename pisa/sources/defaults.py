"""The simulator's defaults, in one place: the `pisa` command's flags and the functions' keywords."""

INITIAL_ROWS = 500          # rows per source that `pisa sources init` loads
FILLER_COLUMNS = 100        # questionnaire filler columns
MAX_FILLER_COLUMNS = 1115   # 5 index columns + id + fillers stays at the real ~1,120
SEED = 2018                 # initial rows are reproducible by default
UPDATE_SHARE = 0.1          # shares of the writes `pisa simulate` makes
DELETE_SHARE = 0.03
BAD_SHARE = 0.01            # share of rows with a malformed value
