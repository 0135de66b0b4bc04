-- Create a database; {database} is composed with psycopg2.sql.Identifier.
CREATE DATABASE {database}
