-- Sessions queued for this source's lease, by application name (a successor run, or reconcile).
SELECT a.application_name
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 2
  AND l.classid = %(namespace)s::oid AND l.objid = hashtext(%(source)s)::oid
