-- Sources whose wal capture made a replication slot (to drop at a reset or once removed).
SELECT source FROM sync_state WHERE replication_slot IS NOT NULL ORDER BY source
