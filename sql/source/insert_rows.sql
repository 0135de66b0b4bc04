-- Insert rows at new ids (execute_values fills VALUES); the column list is composed with
-- psycopg2.sql.Identifier. An id already taken is left as it is.
INSERT INTO responses ({columns}) VALUES %s ON CONFLICT (id) DO NOTHING
