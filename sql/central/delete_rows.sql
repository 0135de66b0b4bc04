-- Remove rows that left the source (streamed deletes, or found by reconcile), taking their values out of the
-- aggregates and their hour out of the arrivals, in one statement.
WITH gone AS (
    DELETE FROM facts
    WHERE source = %(source)s AND id = ANY(%(ids)s)
    RETURNING escs, tmins, belong, durecec, first_seen
),
delta AS (
    SELECT count(*) AS rows,
           coalesce(sum(escs), 0) AS escs_sum, count(escs) AS escs_n,
           coalesce(sum(tmins), 0) AS tmins_sum, count(tmins) AS tmins_n,
           coalesce(sum(belong), 0) AS belong_sum, count(belong) AS belong_n,
           coalesce(sum(durecec), 0) AS durecec_sum, count(durecec) AS durecec_n
    FROM gone
),
stats AS (
    UPDATE country_stats c
    SET rows = c.rows - d.rows,
        escs_sum = c.escs_sum - d.escs_sum, escs_n = c.escs_n - d.escs_n,
        tmins_sum = c.tmins_sum - d.tmins_sum, tmins_n = c.tmins_n - d.tmins_n,
        belong_sum = c.belong_sum - d.belong_sum, belong_n = c.belong_n - d.belong_n,
        durecec_sum = c.durecec_sum - d.durecec_sum, durecec_n = c.durecec_n - d.durecec_n
    FROM delta d
    WHERE c.source = %(source)s
),
arrivals AS (
    UPDATE arrivals_hourly a
    SET rows = a.rows - g.rows
    FROM (SELECT date_trunc('hour', first_seen, 'UTC') AS hour, count(*) AS rows
          FROM gone GROUP BY 1) g
    WHERE a.source = %(source)s AND a.hour = g.hour
),
cleared AS (
    DELETE FROM quarantine
    WHERE source = %(source)s AND id = ANY(%(ids)s)
)
SELECT count(*) FROM gone
