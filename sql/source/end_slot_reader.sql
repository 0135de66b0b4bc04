-- End the WAL sender reading a slot (a slot in use cannot be dropped).
SELECT pg_terminate_backend(%(pid)s)
