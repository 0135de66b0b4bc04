-- Sessions queued for this source's lease in this database (pg_locks spans the whole server),
-- by application name: a successor run, or reconcile.
SELECT a.application_name
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %(namespace)s::oid AND l.objid = hashtext(%(source)s)::oid
