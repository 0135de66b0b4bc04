SELECT count(*) FROM quarantine WHERE (%(source)s::text IS NULL OR source = %(source)s)
