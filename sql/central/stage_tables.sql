-- Per-session staging tables, emptied at every commit. A batch is COPied here, then applied
-- set-based by the statements below.
CREATE TEMP TABLE IF NOT EXISTS stage_rows (
    id       integer PRIMARY KEY,
    version  bigint  NOT NULL,
    escs     numeric,
    tmins    numeric,
    belong   numeric,
    durecec  smallint,
    content_hash bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_issues (
    id           integer NOT NULL,
    column_name  text    NOT NULL,
    raw_value    text,
    reason       text    NOT NULL
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_duplicates (
    id       integer NOT NULL,
    version  bigint  NOT NULL,
    content_hash bigint
) ON COMMIT DELETE ROWS;
-- Statistics of the empty tables: the planner then estimates a batch's size from its pages.
-- Never analyzed, a temp table counts as ten pages, about 550 rows: for a batch of one row the
-- joins with facts then hashed every fact of the source (3 ms at 9,000 facts, growing with the
-- source) instead of looking the row up (0.07 ms).
ANALYZE stage_rows;
ANALYZE stage_issues;
ANALYZE stage_duplicates;
