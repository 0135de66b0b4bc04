-- Autovacuum keeps the tables rewritten every second (the central hot tables, Airflow's runs and
-- task instances) small. Applied by a reload (admin/reload_configuration.sql), no restart.
ALTER SYSTEM SET autovacuum = on
