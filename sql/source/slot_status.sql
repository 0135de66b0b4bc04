-- The product's slot in this source database: how it stands, and the WAL it keeps from removal;
-- and whether the table it streams is still there under its name (a stream would not notice a
-- rename, where a poll fails at once).
SELECT wal_status, active_pid, confirmed_flush_lsn::text,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained_bytes,
       to_regclass('responses') IS NOT NULL AS has_responses
FROM pg_replication_slots
WHERE slot_name = %(slot)s AND database = current_database()
