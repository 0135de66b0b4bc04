-- The API's read-only role: it may connect to the central database and read the summaries, and
-- nothing else. {role} and {database} are identifiers composed with psycopg2.sql; the password
-- is a parameter. PUBLIC has no access to the database (sql/admin/revoke_public_access.sql), so
-- the role's CONNECT is granted here and it gets no TEMP.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role_literal}) THEN
        CREATE ROLE {role} LOGIN;
    END IF;
END $$;
ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD %(password)s;
ALTER ROLE {role} SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE {database} TO {role};
REVOKE TEMPORARY, CREATE ON DATABASE {database} FROM {role};
-- Only the owner creates in the schema (PostgreSQL 15 made this the default; older servers did not).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {role};
-- What sql/api reads, and no more: not the facts, nor the sync's own tables.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM {role};
GRANT SELECT ON country_stats, arrivals_hourly, sync_state, quarantine TO {role};
-- Large objects are not tables: anyone may create one unless these are revoked, even a role
-- whose transactions are read-only by default (it can turn that off for its session).
REVOKE EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea) FROM PUBLIC;
