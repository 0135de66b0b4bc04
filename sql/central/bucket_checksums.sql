-- The central side of sql/source/bucket_checksums.sql: same buckets, same checksum text.
SELECT abs(mod(id, %(buckets)s)) AS bucket,
       count(*) AS rows,
       sum(hashtextextended(id::text || ':' || version::text || ':' || content_hash::text, 0)) AS checksum
FROM facts
WHERE source = %(source)s
GROUP BY 1
