-- The source rows the central copy reflects: counted rows and rows not counted for a duplicate id.
SELECT (SELECT coalesce(sum(rows), 0) FROM country_stats WHERE source = %(source)s)
     + (SELECT coalesce(sum(duplicate_rows), 0) FROM quarantine WHERE source = %(source)s AND column_name = 'id')
