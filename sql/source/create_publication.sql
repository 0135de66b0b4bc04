-- The publication wal capture reads: every change of `responses` (insert, update, delete,
-- truncate). {publication} is composed with psycopg2.sql.Identifier. Only for a table with a
-- primary key: UPDATE and DELETE on a published table without a replica identity fail.
CREATE PUBLICATION {publication} FOR TABLE responses
