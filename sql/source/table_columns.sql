-- Columns of the responses table, in order (the simulator writes all of them).
SELECT column_name
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'responses'
ORDER BY ordinal_position
