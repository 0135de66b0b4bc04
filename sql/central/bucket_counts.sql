-- The central side of sql/source/bucket_counts.sql: counted rows and rows not counted for a
-- duplicate id, per bucket.
SELECT bucket, sum(rows) AS rows, NULL::numeric AS checksum
FROM (
    SELECT abs(mod(id, %(buckets)s)) AS bucket, 1 AS rows
    FROM facts
    WHERE source = %(source)s
    UNION ALL
    SELECT abs(mod(id, %(buckets)s)), duplicate_rows
    FROM quarantine
    WHERE source = %(source)s AND column_name = 'id'
) held
GROUP BY 1
