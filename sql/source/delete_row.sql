DELETE FROM responses WHERE id = %(id)s
