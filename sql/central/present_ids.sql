-- The ids the central copy holds for a source (a TRUNCATE streamed from it: which are gone).
SELECT id FROM facts WHERE source = %(source)s
