-- Upsert the staged (changed) rows and move the aggregates by new minus old, in one statement:
-- every part reads the facts as they were before it, so the differences are exact, and a
-- retried batch finds its rows at their new version (dropped as unchanged) and adds nothing.
WITH changed AS (
    SELECT s.id, s.version, s.escs, s.tmins, s.belong, s.durecec, s.content_hash,
           f.id IS NULL AS is_new,
           f.escs AS old_escs, f.tmins AS old_tmins, f.belong AS old_belong, f.durecec AS old_durecec
    FROM stage_rows s
    LEFT JOIN facts f ON f.source = %(source)s AND f.id = s.id
),
upserted AS (
    INSERT INTO facts (source, id, version, escs, tmins, belong, durecec, content_hash, first_seen, updated_at)
    SELECT %(source)s, id, version, escs, tmins, belong, durecec, content_hash, %(seen_at)s, %(seen_at)s
    FROM changed
    ON CONFLICT (source, id) DO UPDATE
    SET version = EXCLUDED.version, escs = EXCLUDED.escs, tmins = EXCLUDED.tmins,
        belong = EXCLUDED.belong, durecec = EXCLUDED.durecec, content_hash = EXCLUDED.content_hash,
        updated_at = EXCLUDED.updated_at
),
delta AS (
    SELECT count(*) FILTER (WHERE is_new) AS rows,
           coalesce(sum(escs), 0) - coalesce(sum(old_escs), 0) AS escs_sum,
           count(escs) - count(old_escs) AS escs_n,
           coalesce(sum(tmins), 0) - coalesce(sum(old_tmins), 0) AS tmins_sum,
           count(tmins) - count(old_tmins) AS tmins_n,
           coalesce(sum(belong), 0) - coalesce(sum(old_belong), 0) AS belong_sum,
           count(belong) - count(old_belong) AS belong_n,
           coalesce(sum(durecec), 0) - coalesce(sum(old_durecec), 0) AS durecec_sum,
           count(durecec) - count(old_durecec) AS durecec_n
    FROM changed
),
stats AS (
    UPDATE country_stats c
    SET rows = c.rows + d.rows,
        escs_sum = c.escs_sum + d.escs_sum, escs_n = c.escs_n + d.escs_n,
        tmins_sum = c.tmins_sum + d.tmins_sum, tmins_n = c.tmins_n + d.tmins_n,
        belong_sum = c.belong_sum + d.belong_sum, belong_n = c.belong_n + d.belong_n,
        durecec_sum = c.durecec_sum + d.durecec_sum, durecec_n = c.durecec_n + d.durecec_n
    FROM delta d
    WHERE c.source = %(source)s
),
arrivals AS (
    INSERT INTO arrivals_hourly (source, hour, rows)
    SELECT %(source)s, date_trunc('hour', %(seen_at)s::timestamptz, 'UTC'), count(*)
    FROM changed
    WHERE is_new
    HAVING count(*) > 0
    ON CONFLICT (source, hour) DO UPDATE SET rows = arrivals_hourly.rows + EXCLUDED.rows
)
SELECT count(*) AS changed, count(*) FILTER (WHERE is_new) AS inserted
FROM changed
