-- What logical replication capture needs of the server (pisa/local_server.py compares them).
SELECT current_setting('wal_level') AS wal_level,
       current_setting('max_replication_slots')::int AS max_replication_slots,
       current_setting('max_wal_senders')::int AS max_wal_senders,
       current_setting('hba_file') AS hba_file,
       EXISTS (SELECT FROM pg_hba_file_rules
               WHERE 'replication' = ANY(database) AND type = 'host'
                 AND address IN ('127.0.0.1', 'all') AND error IS NULL) AS replication_allowed
