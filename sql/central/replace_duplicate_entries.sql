-- The 'duplicate id' entries of the given ids become what stage_duplicates holds: one per id
-- with rows not counted (a newer row with that id counts), with their number and hash sum.
DELETE FROM quarantine
WHERE source = %(source)s AND column_name = 'id' AND id = ANY(%(ids)s);

INSERT INTO quarantine (source, id, column_name, raw_value, reason, seen_at, duplicate_rows, duplicate_checksum)
SELECT %(source)s, id, 'id', id::text, 'duplicate id', %(seen_at)s, count(*),
       sum(hashtextextended(id::text || ':' || version::text || ':' || content_hash::text, 0))
FROM stage_duplicates
GROUP BY id;
