-- What wal capture needs of a source, each a reason to fall back to xmin when missing: logical
-- WAL, a role that may replicate (superuser, REPLICATION, or RDS's rds_replication), the
-- publication covering `responses` for every kind of change, and a replica identity (a
-- published table without one makes the owner's UPDATEs and DELETEs fail).
SELECT current_setting('wal_level') AS wal_level,
       (SELECT rolsuper OR rolreplication FROM pg_roles WHERE rolname = current_user)
       OR EXISTS (SELECT FROM pg_roles r
                  WHERE r.rolname = 'rds_replication' AND pg_has_role(current_user, r.oid, 'MEMBER'))
           AS may_replicate,
       EXISTS (SELECT FROM pg_publication p
               JOIN pg_publication_tables t ON t.pubname = p.pubname
               WHERE p.pubname = %(publication)s
                 AND format('%%I.%%I', t.schemaname, t.tablename)::regclass = 'responses'::regclass
                 AND p.pubinsert AND p.pubupdate AND p.pubdelete AND p.pubtruncate) AS published,
       (SELECT c.relreplident = 'f'
               OR (c.relreplident = 'd' AND EXISTS (SELECT FROM pg_index i
                                                   WHERE i.indrelid = c.oid AND i.indisprimary))
               OR (c.relreplident = 'i' AND EXISTS (SELECT FROM pg_index i
                                                   WHERE i.indrelid = c.oid AND i.indisreplident))
        FROM pg_class c WHERE c.oid = 'responses'::regclass) AS has_identity
