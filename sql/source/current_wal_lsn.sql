-- How far the source has written its WAL: a stream just started reads up to here before its
-- first poll ends, so a poll sees every commit made before it began.
SELECT pg_current_wal_lsn()::text
