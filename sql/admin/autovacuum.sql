SELECT current_setting('autovacuum')::boolean
