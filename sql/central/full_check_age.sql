-- Seconds since the source's last full check (reconcile) ended; NULL when it never had one.
SELECT extract(epoch FROM now() - last_reconcile_at)::float8 FROM sync_state WHERE source = %(source)s
