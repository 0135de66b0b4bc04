UPDATE responses
SET cnt = %(cnt)s, escs = %(escs)s, tmins = %(tmins)s, belong = %(belong)s, durecec = %(durecec)s
WHERE id = %(id)s
