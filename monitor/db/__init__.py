"""Persistence: SQLModel tables, the engine, every query, and Alembic migrations."""
