-- Every row the poll's snapshot sees (rows sharing an id included).
SELECT count(*) FROM responses
