-- Planner statistics after the bulk load (the simulator's id lookups use the key).
ANALYZE responses
