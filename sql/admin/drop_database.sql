-- Drop a database, disconnecting its sessions; {database} is composed with psycopg2.sql.Identifier.
DROP DATABASE IF EXISTS {database} WITH (FORCE)
