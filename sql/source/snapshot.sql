-- The snapshot this poll reads in. Run first in a REPEATABLE READ transaction, so every later
-- statement sees exactly this snapshot. Its xmax is the next xid, the point age() counts back
-- from. statement_timestamp() is taken just before the snapshot: a conservative "synced through".
-- The table's file tells later whether a rewrite (ALTER TABLE ... rewrite, TRUNCATE) committed
-- after the snapshot: this snapshot would then see the table empty (sql/source/table_file.sql).
SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS snapshot_xmin,
       pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS snapshot_xmax,
       statement_timestamp() AS taken_at,
       pg_relation_filenode('responses'::regclass) AS table_file
