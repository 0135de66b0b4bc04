-- A valid row the freshness benchmark times from its commit to its first appearance in the API.
-- An id already taken (by an earlier run's rows) inserts nothing and returns no row.
INSERT INTO responses (id, cnt, escs, tmins, belong, durecec) VALUES (%s, %s, '0.5', '1500', '0.1', '3')
ON CONFLICT (id) DO NOTHING
RETURNING id
