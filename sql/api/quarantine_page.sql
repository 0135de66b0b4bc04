-- One page of quarantined values, newest first.
SELECT source, id, column_name AS "column", raw_value, reason, seen_at
FROM quarantine
WHERE (%(source)s::text IS NULL OR source = %(source)s)
ORDER BY seen_at DESC, source, id, column_name
LIMIT %(limit)s OFFSET %(offset)s
