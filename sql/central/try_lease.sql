-- The per-source sync lease: a session advisory lock on the central DB, held by the one
-- connection that also writes that source's batches (if the session dies, the lease goes with it).
SELECT pg_try_advisory_lock(%(namespace)s, hashtext(%(source)s))
