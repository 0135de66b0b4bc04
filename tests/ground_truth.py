"""Ground truth: the figures computed directly over the sources by SQL written for the tests,
independently of the sync core's parser, and the same figures read from the central DB."""
from __future__ import annotations

from pisa.sync import runner

NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"

MAX_DECIMAL_PLACES = 100    # README, "Validity"; the sync's parser has its own copy of the rule

# Per index: the valid range, and whether only whole numbers count.
RANGES = {"escs": (-10, 10, False), "tmins": (0, 10080, False), "belong": (-10, 10, False), "durecec": (0, 8, True)}


# README, "Duplicate ids": of the rows sharing an id, the newest version counts (ties: the larger
# hash of the raw texts). Every figure below is over these rows.
COUNTED_ROWS = ("(SELECT DISTINCT ON (id) * FROM responses ORDER BY id, age(xmin), "
                "hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0) DESC) AS counted")
DUPLICATE_IDS_SQL = "SELECT id, 'id', id::text FROM responses GROUP BY id HAVING count(*) > 1"


def _valid_expr(column: str) -> str:
    low, high, whole = RANGES[column]
    number = f"btrim({column})::numeric"
    in_range = f"{number} BETWEEN {low} AND {high}"
    if whole:
        in_range += f" AND {number} = trunc({number})"
    else:       # the documented safety limit: at most MAX_DECIMAL_PLACES places (as written)
        in_range += f" AND scale({number}) <= {MAX_DECIMAL_PLACES}"
    # Nested CASE: the cast runs only on text the pattern accepted.
    return f"CASE WHEN btrim({column}) ~ %(number)s THEN CASE WHEN {in_range} THEN {number} END END"


TRUTH_SQL = "SELECT count(*), " + ", ".join(
    f"coalesce(sum(v_{c}), 0), count(v_{c})" for c in RANGES) + " FROM (SELECT " + ", ".join(
    f"{_valid_expr(c)} AS v_{c}" for c in RANGES) + f" FROM {COUNTED_ROWS}) parsed"

BAD_VALUES_SQL = " UNION ALL ".join(
    f"SELECT id, '{c}', {c} FROM {COUNTED_ROWS} WHERE {c} IS NOT NULL AND btrim({c}) NOT IN ('', 'NA') "
    f"AND ({_valid_expr(c)}) IS NULL" for c in RANGES
) + (f" UNION ALL SELECT id, 'cnt', cnt FROM {COUNTED_ROWS} "
     "WHERE cnt IS NOT NULL AND btrim(cnt) NOT IN ('', 'NA', %(source)s)"
     f" UNION ALL {DUPLICATE_IDS_SQL}")

CENTRAL_SQL = """SELECT source, rows, escs_sum, escs_n, tmins_sum, tmins_n, belong_sum, belong_n, durecec_sum, durecec_n
                 FROM country_stats WHERE rows > 0 ORDER BY source"""


def _per_source(env, query: str, **params) -> dict[str, list[tuple]]:
    """Run `query` in every source; rows by source."""
    result = {}
    for source in env.settings.sources:
        conn = env.source_conn(source)
        with conn, conn.cursor() as cur:
            cur.execute(query, {"number": NUMBER, "source": source, **params})
            result[source] = cur.fetchall()
        conn.close()
    return result


def _central(env, query: str) -> list[tuple]:
    conn = env.central_conn()
    with conn.cursor() as cur:
        cur.execute(query)
        rows = cur.fetchall()
    conn.close()
    return rows


def source_figures(env) -> dict[str, tuple]:
    """Per source: (rows, escs_sum, escs_n, tmins_sum, tmins_n, belong_sum, belong_n, durecec_sum, durecec_n)."""
    return {source: rows[0] for source, rows in _per_source(env, TRUTH_SQL).items() if rows[0][0]}


def central_figures(env) -> dict[str, tuple]:
    return {row[0]: tuple(row[1:]) for row in _central(env, CENTRAL_SQL)}


def source_bad_values(env) -> set[tuple]:
    """(source, id, column, raw value) of every malformed value in the sources."""
    return {(source, *row) for source, rows in _per_source(env, BAD_VALUES_SQL).items() for row in rows}


def central_quarantine(env) -> set[tuple]:
    return set(_central(env, "SELECT source, id, column_name, raw_value FROM quarantine"))


def source_ids(env) -> set[tuple[str, int]]:
    return {(source, i) for source, rows in _per_source(env, "SELECT DISTINCT id FROM responses").items()
            for (i,) in rows}


def central_ids(env) -> set[tuple[str, int]]:
    return set(_central(env, "SELECT source, id FROM facts"))


def arrivals_consistent(env) -> tuple[dict, dict]:
    """The arrivals table next to the same figure recomputed from the facts' first-seen hours."""
    table = {(s, h): n for s, h, n in _central(env, "SELECT source, hour, rows FROM arrivals_hourly WHERE rows <> 0")}
    recomputed = {(s, h): n for s, h, n in _central(
        env, "SELECT source, date_trunc('hour', first_seen, 'UTC'), count(*) FROM facts GROUP BY 1, 2")}
    return table, recomputed


def assert_exact(env) -> None:
    """Every aggregate the API needs equals the ground truth over the sources, exactly."""
    truth = source_figures(env)
    assert central_figures(env) == truth
    assert central_ids(env) == source_ids(env)
    assert central_quarantine(env) == source_bad_values(env)
    table, recomputed = arrivals_consistent(env)
    assert table == recomputed
    assert sum(table.values()) == sum(f[0] for f in truth.values())


def sync_and_reconcile(env) -> None:
    """One sync pass and one reconcile pass over every source; both must succeed."""
    for results in (runner.sync_all_once(env.settings), runner.sync_all_once(env.settings, reconcile_after=True)):
        assert [r.status for r in results] == ["ok"] * len(results), [r.describe() for r in results]


# -- the charts, as the contract defines them, straight from the sources ----------------------
CHARTS_SQL = ("SELECT count(*), round(avg(v_tmins) / 60, 1), round(avg(v_escs), 2), "
              "round(avg(v_durecec), 2), round(avg(v_belong), 3) FROM (SELECT " + ", ".join(
                  f"{_valid_expr(c)} AS v_{c}" for c in RANGES) + f" FROM {COUNTED_ROWS}) parsed")


def _number(value):
    return None if value is None else float(value)


def expected_charts(env, countries=None) -> dict:
    """The five contract bodies (sot aside) computed over the sources, filtered to `countries`."""
    per_source = {source: rows[0] for source, rows in _per_source(env, CHARTS_SQL).items() if rows[0][0]}
    shown = [s for s in sorted(per_source) if countries is None or s in countries]
    return {
        "/submissions": {"count": sum(row[0] for row in per_source.values())},
        "/tmins": {"datasets": [{"country": s, "hours": _number(per_source[s][1])} for s in shown]},
        "/escs": {"datasets": [{"id": s, "value": _number(per_source[s][2])} for s in shown]},
        "/eeb": {"datasets": [{"id": s, "data": [{"x": _number(per_source[s][3]), "y": _number(per_source[s][4]),
                                                  "submissions": per_source[s][0]}]} for s in shown]},
    }


def expected_sot(env) -> dict:
    """Rows per hour of first arrival (from the facts' first-seen times), the 24 hours to now."""
    rows = _central(env, """
        SELECT to_char(h AT TIME ZONE 'UTC', 'HH24') || ':00', (SELECT count(*) FROM facts
                                             WHERE date_trunc('hour', first_seen, 'UTC') = h)
        FROM generate_series(date_trunc('hour', now(), 'UTC') - interval '23 hours',
                             date_trunc('hour', now(), 'UTC'), interval '1 hour') AS h
        ORDER BY h""")
    return {"datasets": [{"id": "Submissions", "data": [{"x": x, "y": y} for x, y in rows]}]}


# -- what the API's health and quarantine views must show, read straight from the central DB ---
def central_synced_through(env) -> dict:
    """Per source: its sync_state.synced_through (None before its first sync)."""
    return dict(_central(env, "SELECT source, synced_through FROM sync_state"))


def central_quarantine_reasons(env) -> dict[tuple, str]:
    """(source, id, column) -> the reason recorded for that malformed value."""
    return {(s, i, c): reason for s, i, c, reason in _central(
        env, "SELECT source, id, column_name, reason FROM quarantine")}


def source_row_counts(env) -> dict[str, int]:
    """Per source: the rows counted in it now (0 for an empty source)."""
    return {source: rows[0][0] for source, rows in _per_source(env, "SELECT count(DISTINCT id) FROM responses").items()}
