-- Count and checksum of (id, version, content) per id bucket, compared with
-- sql/central/bucket_checksums.sql. The content hash is of the raw texts the figures depend on
-- (as in changed_rows.sql), so a row back at an old version with other values is found too.
-- hashtextextended is stable across platforms and versions (hash partitioning relies on it).
SELECT abs(mod(id, %(buckets)s)) AS bucket,
       count(*) AS rows,
       sum(hashtextextended(id::text || ':' || xmin::text || ':'
           || hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0)::text, 0)) AS checksum
FROM responses
GROUP BY 1
