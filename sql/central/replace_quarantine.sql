-- The quarantine holds the current problems of present rows: a changed row's old entries go,
-- its new ones come in. ('duplicate id' entries are the id's, not the row's: replaced apart.)
DELETE FROM quarantine q
USING stage_rows s
WHERE q.source = %(source)s AND q.id = s.id AND q.column_name <> 'id';

INSERT INTO quarantine (source, id, column_name, raw_value, reason, seen_at)
SELECT %(source)s, i.id, i.column_name, i.raw_value, i.reason, %(seen_at)s
FROM stage_issues i
JOIN stage_rows s USING (id);
