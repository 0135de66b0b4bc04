"""Live PISA dashboard: source simulator, incremental sync core and central aggregates."""
