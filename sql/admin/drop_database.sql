-- Drop a database, disconnecting its sessions; the name is composed with psycopg2.sql.Identifier.
DROP DATABASE IF EXISTS {database} WITH (FORCE)
