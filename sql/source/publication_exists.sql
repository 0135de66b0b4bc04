-- Whether the publication wal capture reads exists in this source database.
SELECT EXISTS (SELECT FROM pg_publication WHERE pubname = %(publication)s)
