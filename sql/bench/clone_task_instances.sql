-- The task instances of the runs clone_dag_runs.sql added to one DAG: copies of the latest finished
-- real run's, started with their run and in its state (a task left 'running' would hold one of
-- the DAG's task slots for good). Airflow 3.3's task_instance columns.
WITH template AS (
    SELECT * FROM task_instance
    WHERE dag_id = %(dag_id)s
      AND run_id = (SELECT run_id FROM dag_run WHERE dag_id = %(dag_id)s AND state = 'success'
                    AND run_id NOT LIKE 'history\_\_%%' ORDER BY id DESC LIMIT 1)
)
INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, start_date, end_date, duration, state, try_number,
                           max_tries, hostname, unixname, pool, pool_slots, queue, priority_weight, operator,
                           custom_operator_name, queued_dttm, scheduled_dttm, executor, updated_at, span_status,
                           task_display_name, dag_version_id)
SELECT gen_random_uuid(), ti.task_id, ti.dag_id, r.run_id, ti.map_index, r.start_date, r.end_date,
       CASE WHEN r.end_date IS NULL THEN NULL ELSE 30 END, CASE WHEN r.state = 'running' THEN 'running' ELSE 'success' END,
       ti.try_number, ti.max_tries, ti.hostname, ti.unixname, ti.pool, ti.pool_slots, ti.queue, ti.priority_weight,
       ti.operator, ti.custom_operator_name, r.start_date, r.start_date, ti.executor, r.start_date, ti.span_status,
       ti.task_display_name, ti.dag_version_id
FROM dag_run AS r
CROSS JOIN template AS ti
WHERE r.dag_id = %(dag_id)s AND r.run_id LIKE 'history\_\_%%'
  AND NOT EXISTS (SELECT 1 FROM task_instance WHERE dag_id = r.dag_id AND run_id = r.run_id)
