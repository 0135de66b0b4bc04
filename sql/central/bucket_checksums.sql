-- The central side of sql/source/bucket_checksums.sql: same buckets, same checksum text, over
-- the counted rows and the rows not counted for a duplicate id (their sums sit in quarantine).
SELECT bucket, sum(rows) AS rows, sum(checksum) AS checksum
FROM (
    SELECT abs(mod(id, %(buckets)s)) AS bucket, 1 AS rows,
           hashtextextended(id::text || ':' || version::text || ':' || content_hash::text, 0)::numeric AS checksum
    FROM facts
    WHERE source = %(source)s
    UNION ALL
    SELECT abs(mod(id, %(buckets)s)), duplicate_rows, duplicate_checksum
    FROM quarantine
    WHERE source = %(source)s AND column_name = 'id'
) counted
GROUP BY 1
