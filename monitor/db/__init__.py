"""Persistence: tables, the records the store gives back, the unit of work of one item, the queries per
concern (feeds, items, stories, outbox, digests) behind one `Store`, the engine, and Alembic migrations."""
