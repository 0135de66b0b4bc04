-- The baseline design: every poll aggregates one source's raw rows on read (what a peer's
-- serverless function per poll did). Same validity rules as the pipeline, so the same answer.
SELECT count(*) AS rows,
       round(avg(CASE WHEN btrim(tmins) ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
                      THEN CASE WHEN btrim(tmins)::numeric BETWEEN 0 AND 10080 THEN btrim(tmins)::numeric END END) / 60, 1) AS hours,
       round(avg(CASE WHEN btrim(escs) ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
                      THEN CASE WHEN btrim(escs)::numeric BETWEEN -10 AND 10 THEN btrim(escs)::numeric END END), 2) AS escs,
       round(avg(CASE WHEN btrim(durecec) ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
                      THEN CASE WHEN btrim(durecec)::numeric BETWEEN 0 AND 8
                                 AND btrim(durecec)::numeric = trunc(btrim(durecec)::numeric)
                                THEN btrim(durecec)::numeric END END), 2) AS durecec,
       round(avg(CASE WHEN btrim(belong) ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$'
                      THEN CASE WHEN btrim(belong)::numeric BETWEEN -10 AND 10 THEN btrim(belong)::numeric END END), 3) AS belong
FROM responses
