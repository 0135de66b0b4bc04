-- When the oldest DAG run started: made-up history ends before it.
SELECT min(start_date) FROM dag_run
