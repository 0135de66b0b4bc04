-- The file of the responses table as the catalog has it now (not as the transaction's snapshot
-- does): a new file means the table was rewritten (ALTER TABLE ... rewrite, TRUNCATE, CLUSTER).
SELECT pg_relation_filenode('responses'::regclass)
