-- An existing row near a random id: the primary key index makes this O(log n).
SELECT coalesce(
    (SELECT id FROM responses WHERE id >= %(near)s ORDER BY id LIMIT 1),
    (SELECT id FROM responses ORDER BY id LIMIT 1))
