-- Every row of the given id buckets, to repair them in the central copy.
SELECT id, xmin::text::bigint AS version, cnt, escs, tmins, belong, durecec,
       hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0) AS content_hash
FROM responses
WHERE abs(mod(id, %(buckets)s)) = ANY(%(bucket_list)s)
