-- A removed source's slot was dropped: its next sync, if it comes back, starts from a new one.
UPDATE sync_state SET replication_slot = NULL, wal_retained_bytes = NULL WHERE source = %(source)s
