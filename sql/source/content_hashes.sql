-- The content hash of streamed rows, as sql/source/changed_rows.sql computes it from the table:
-- the same function over the same record text (every column is text), in the rows' order.
SELECT hashtextextended(row(cnt, escs, tmins, belong, durecec)::text, 0)
FROM unnest(%(cnt)s::text[], %(escs)s::text[], %(tmins)s::text[], %(belong)s::text[], %(durecec)s::text[])
     WITH ORDINALITY AS streamed(cnt, escs, tmins, belong, durecec, n)
ORDER BY n
