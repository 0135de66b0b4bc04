INSERT INTO stage_issues (id, column_name, raw_value, reason) VALUES %s
