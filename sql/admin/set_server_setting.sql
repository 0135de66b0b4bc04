-- {name} is composed with psycopg2.sql.Identifier, {value} with psycopg2.sql.Literal (ALTER
-- SYSTEM takes no bind parameters). Settings of postmaster context wait for a restart.
ALTER SYSTEM SET {name} = {value}
