-- Fresh planner statistics after a bulk catch-up, so later batches look rows up by key.
ANALYZE facts
