-- A run about to queue for a source's lease tells its holder (sql/central/listen_lease_requests.sql):
-- delivered at commit, so the holder, woken at once, finds the request queued in pg_locks.
SELECT pg_notify('pisa_lease_requested', %(source)s)
