-- Autovacuum keeps the tables rewritten every second (the central hot tables, Airflow's runs and
-- task instances) small; a reload applies it, no restart.
ALTER SYSTEM SET autovacuum = on;
SELECT pg_reload_conf();
