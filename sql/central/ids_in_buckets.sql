SELECT id FROM facts
WHERE source = %(source)s AND abs(mod(id, %(buckets)s)) = ANY(%(bucket_list)s)
