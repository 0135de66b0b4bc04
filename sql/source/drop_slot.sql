-- Drop a replication slot no one reads (sql/source/end_slot_reader.sql ends its reader first).
SELECT pg_drop_replication_slot(%(slot)s)
