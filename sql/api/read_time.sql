-- The database's clock at the read: every age in a response is measured from it.
SELECT now() AS read_at
