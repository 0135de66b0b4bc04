-- Rows per source in the central copy, as the sync's commit left them (before the API's cache):
-- the freshness benchmark's second observation point.
SELECT source, rows FROM country_stats
