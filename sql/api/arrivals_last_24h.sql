-- Rows present per hour of first arrival, for the 24 hours ending with the current one (UTC).
SELECT hour, sum(rows) AS rows
FROM arrivals_hourly
WHERE hour > date_trunc('hour', now(), 'UTC') - interval '24 hours'
GROUP BY hour
