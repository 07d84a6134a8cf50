"""Database engine, declarative base and the one Alembic history."""
