-- Every row of the given id buckets, to repair them in the central copy. In id order, so the
-- rows sharing an id (a source without a primary key) are read into one batch together.
SELECT id, xmin::text::bigint AS version, cnt, escs, tmins, belong, durecec,
       hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0) AS content_hash
FROM responses
WHERE abs(mod(id, %(buckets)s)) = ANY(%(bucket_list)s)
ORDER BY id
