-- Rows whose version (xmin) is at or after the watermark, the xmin of the previous poll's snapshot.
-- age() measures both xids from the same next-xid in 32-bit modular arithmetic, as PostgreSQL's
-- own TransactionIdFollowsOrEquals does, so this stays right across xid wraparound. A NULL
-- watermark (first sync, or one too old to compare) reads every row.
SELECT id, xmin::text::bigint AS version, cnt, escs, tmins, belong, durecec,
       hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0) AS content_hash
FROM responses
WHERE %(watermark)s::bigint IS NULL
   OR age(xmin) BETWEEN 0 AND age(xid(%(watermark)s::text::xid8))
