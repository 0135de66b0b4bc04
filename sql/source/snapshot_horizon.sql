-- In a check's snapshot (after sql/source/snapshot.sql): which transactions it sees (those
-- below xmax and not in progress) and the WAL written so far, which every commit it sees is
-- before. The stream is read up to there, so the check compares like with like.
SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax,
       array(SELECT xid::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS xid) AS in_progress,
       pg_current_wal_lsn()::text AS wal_lsn
