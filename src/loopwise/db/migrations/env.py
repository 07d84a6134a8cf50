"""Alembic environment: the engine comes from the caller (see loopwise.db.migrate)."""

from alembic import context

from loopwise.db.base import Base, import_all_tables

import_all_tables()
config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
