-- Per source: rows, where its sync stands, how it captures changes, and its last error.
SELECT s.source, c.rows, s.synced_through, s.last_success_at, s.last_error, s.last_error_at,
       s.last_poll_ms AS poll_ms, s.poll_interval_s, s.last_reconcile_at,
       s.capture, s.capture_note, s.replication_slot, s.wal_retained_bytes
FROM sync_state s
JOIN country_stats c USING (source)
ORDER BY s.source
