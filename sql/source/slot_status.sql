-- The product's slot in this source database: how it stands, and the WAL it keeps from removal.
SELECT wal_status, active_pid, confirmed_flush_lsn::text,
       pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained_bytes
FROM pg_replication_slots
WHERE slot_name = %(slot)s AND database = current_database()
