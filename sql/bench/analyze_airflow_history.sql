-- Fresh planner statistics after a bulk load of history, as autovacuum would soon gather them.
ANALYZE dag_run;
ANALYZE task_instance;
