-- {value} is composed with psycopg2.sql.Literal (ALTER SYSTEM takes no bind parameters).
-- Takes effect at the next server restart.
ALTER SYSTEM SET max_connections = {value}
