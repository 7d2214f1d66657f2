"""Domain layer of the subscription customer portal: config, database, models and use cases (no UI)."""
