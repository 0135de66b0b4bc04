-- The snapshot this poll reads in. Run first in a REPEATABLE READ transaction, so every later
-- statement sees exactly this snapshot. statement_timestamp() is taken just before the snapshot:
-- a conservative "synced through" time.
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS snapshot_xmin,
       statement_timestamp() AS taken_at
