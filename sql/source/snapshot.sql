-- The snapshot this poll reads in. Run first in a REPEATABLE READ transaction, so every later
-- statement sees exactly this snapshot. Its xmax is the next xid, the point age() counts back
-- from. statement_timestamp() is taken just before the snapshot: a conservative "synced through".
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS snapshot_xmin,
       pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS snapshot_xmax,
       statement_timestamp() AS taken_at
