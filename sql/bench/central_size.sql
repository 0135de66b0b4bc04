-- The central database over a soak: its size and facts' (MB, facts grow with the data), the
-- rewritten-every-second tables' size (kB) and dead rows, and the server's open connections.
SELECT pg_database_size(current_database()) / 1e6,
       pg_total_relation_size('facts') / 1e6,
       (SELECT sum(pg_total_relation_size(relid)) / 1e3 FROM pg_stat_user_tables WHERE relname = ANY(%(hot)s)),
       (SELECT sum(n_dead_tup) FROM pg_stat_user_tables WHERE relname = ANY(%(hot)s)),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')
