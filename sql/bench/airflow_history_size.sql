-- What Airflow's history costs its metadata database: its size (MB), DAG runs, task instances.
SELECT pg_database_size(current_database()) / 1e6,
       (SELECT count(*) FROM dag_run),
       (SELECT count(*) FROM task_instance)
