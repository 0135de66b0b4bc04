-- Create a database; the name is composed with psycopg2.sql.Identifier.
CREATE DATABASE {database}
