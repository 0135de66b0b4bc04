-- Delete the first row at or after a random id (the benchmark's measured delete); no row when
-- the id lies past the last one (the caller draws again).
DELETE FROM responses
WHERE id = (SELECT id FROM responses WHERE id >= %s ORDER BY id LIMIT 1)
RETURNING id
