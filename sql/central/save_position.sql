-- A poll's end, after its batches committed: move the source's position (the watermark, and the
-- strategy it belongs to) and record what the poll did. Moving it last is what makes a crash
-- repeat work, never skip it. A capture note (why xmin, or the last resync's reason) stays
-- until another note comes or the strategy changes.
UPDATE sync_state
SET watermark       = %(watermark)s,
    capture_note    = CASE WHEN %(capture_note)s::text IS NOT NULL THEN %(capture_note)s
                           WHEN capture IS DISTINCT FROM %(capture)s THEN NULL
                           ELSE capture_note END,
    capture         = %(capture)s,
    replication_slot = %(replication_slot)s,
    wal_retained_bytes = %(wal_retained_bytes)s,
    synced_through  = %(synced_through)s,
    rows_applied    = rows_applied + %(rows)s,
    last_batch_rows = %(rows)s,
    last_poll_ms    = %(poll_ms)s,
    poll_interval_s = coalesce(%(poll_interval_s)s, poll_interval_s),
    last_success_at = now(),
    last_error      = NULL
WHERE source = %(source)s
