SELECT s.watermark, s.synced_through, c.rows, s.capture
FROM sync_state s
JOIN country_stats c USING (source)
WHERE s.source = %(source)s
