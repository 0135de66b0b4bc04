-- The oldest DAG run that has started and not finished: the cleanup's cutoff never passes its
-- start, so a running run and its task instances are never touched.
SELECT dag_id, run_id, start_date
FROM dag_run
WHERE state NOT IN ('success', 'failed') AND start_date IS NOT NULL
ORDER BY start_date
LIMIT 1
