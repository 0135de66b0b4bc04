-- A source's rows in the aggregate and state tables exist before its first batch.
INSERT INTO country_stats (source) VALUES (%(source)s) ON CONFLICT DO NOTHING;
INSERT INTO sync_state (source) VALUES (%(source)s) ON CONFLICT DO NOTHING;
