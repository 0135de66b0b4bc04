-- Queue for the source's lease behind its holder. The wait is bounded on the server by a
-- lock_timeout (and a statement_timeout above it) local to this transaction; the advisory lock
-- itself outlives the transaction.
SELECT set_config('statement_timeout', %(statement_timeout)s, true),
       set_config('lock_timeout', %(timeout)s, true);
SELECT pg_advisory_lock(%(namespace)s, hashtext(%(source)s));
