-- Count and checksum of (id, version) per id bucket; compared with sql/central/bucket_checksums.sql.
-- hashtextextended is stable across platforms and versions (hash partitioning relies on it).
SELECT abs(mod(id, %(buckets)s)) AS bucket,
       count(*) AS rows,
       sum(hashtextextended(id::text || ':' || xmin::text, 0)) AS checksum
FROM responses
GROUP BY 1
