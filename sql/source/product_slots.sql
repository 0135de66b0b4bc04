-- The replication slots of this database whose names match a LIKE pattern (the product's start pisa_).
SELECT slot_name, active_pid
FROM pg_replication_slots
WHERE database = current_database() AND slot_name LIKE %(pattern)s
ORDER BY slot_name
