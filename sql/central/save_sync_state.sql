-- Move the watermark (on the last batch of a poll only) and record what the batch did.
UPDATE sync_state
SET watermark       = CASE WHEN %(final)s THEN %(watermark)s ELSE watermark END,
    synced_through  = CASE WHEN %(final)s THEN %(synced_through)s ELSE synced_through END,
    rows_applied    = rows_applied + %(rows)s,
    last_batch_rows = %(rows)s,
    last_poll_ms    = coalesce(%(poll_ms)s, last_poll_ms),
    poll_interval_s = coalesce(%(poll_interval_s)s, poll_interval_s),
    last_success_at = now(),
    last_error      = NULL
WHERE source = %(source)s
