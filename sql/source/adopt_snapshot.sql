-- The first statement of the initial read: the snapshot exported with the replication slot's
-- creation, so the read and the stream meet exactly (nothing missed, nothing doubled).
SET TRANSACTION SNAPSHOT %(snapshot)s
