-- The current rows of some ids: for streamed updates whose index values were left out as
-- unchanged TOAST (never the case for short values, but the protocol allows it).
SELECT id, xmin::text::bigint AS version, cnt, escs, tmins, belong, durecec,
       hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0) AS content_hash
FROM responses
WHERE id = ANY(%(ids)s)
