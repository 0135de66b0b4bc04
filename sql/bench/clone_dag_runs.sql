-- Airflow history for the retention test and benchmark: one DAG run per start time from %(first)s
-- to %(last)s every %(every)s, each a copy of the DAG's latest finished real run (its conf, version
-- and bundle), as the scheduler would have made it then. Airflow 3.3's dag_run columns.
INSERT INTO dag_run (dag_id, queued_at, logical_date, start_date, end_date, state, run_id, creating_job_id,
                     run_type, triggered_by, conf, data_interval_start, data_interval_end, run_after,
                     last_scheduling_decision, log_template_id, created_at, updated_at, clear_number,
                     bundle_version, span_status, created_dag_version_id)
SELECT t.dag_id, s.at, s.at, s.at, CASE WHEN %(state)s = 'running' THEN NULL ELSE s.at + interval '30 seconds' END,
       %(state)s, 'history__' || to_char(s.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), t.creating_job_id,
       'scheduled', t.triggered_by, t.conf, s.at, s.at, s.at,
       s.at, t.log_template_id, s.at, s.at, 0,
       t.bundle_version, t.span_status, t.created_dag_version_id
FROM (SELECT * FROM dag_run WHERE dag_id = %(dag_id)s AND state = 'success' AND run_id NOT LIKE 'history\_\_%%'
      ORDER BY id DESC LIMIT 1) AS t
CROSS JOIN generate_series(%(first)s::timestamptz, %(last)s::timestamptz, %(every)s::interval) AS s(at)
