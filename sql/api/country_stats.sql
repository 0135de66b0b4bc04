-- The pre-aggregated per-country sums and present-counts: O(countries), never a scan of facts.
SELECT source AS country, rows, escs_sum, escs_n, tmins_sum, tmins_n, belong_sum, belong_n, durecec_sum, durecec_n
FROM country_stats
WHERE rows > 0
ORDER BY source
