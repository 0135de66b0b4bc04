-- Rows of one Airflow metadata table older than the retention cutoff, by the column `airflow db
-- clean` ages them by; counted before and after a cleanup to say what it removed.
SELECT count(*) FROM {table} WHERE {recency_column} < %(cutoff)s
