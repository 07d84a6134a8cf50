"""Alembic environment: the engine comes from the caller (see loopwise.db.migrate).

SQLite cannot alter most of a table in place, so batch migrations copy the table, drop the
old one and rename the copy. With foreign keys on, that DROP deletes the old rows one by
one and every ``ON DELETE CASCADE`` fires: upgrading a 0004 database once emptied runs,
metrics, params and latest metrics. So foreign keys are switched off for the migration
(SQLite ignores that pragma inside a transaction, hence before it begins), and
``PRAGMA foreign_key_check`` must find no more broken references after the migration than
before it (a database may already hold some: those are not the migration's to fix).
"""

from collections import Counter
from typing import Any

from alembic import context

from loopwise.core.errors import MigrationFailed

config = context.config
engine = config.attributes["engine"]


def _foreign_keys(driver_connection: Any, on: bool) -> None:
    driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _broken_references(connection: Any) -> Counter[tuple[str, str]]:
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    return Counter((row[0], row[2]) for row in rows)  # (table, referred table)


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    driver = connection.connection.driver_connection if sqlite else None
    if sqlite:
        _foreign_keys(driver, on=False)
    try:
        context.configure(
            connection=connection,
            # The tables as the code maps them, for autogenerate and comparisons; a plain
            # upgrade needs none (loopwise.db.migrate.alembic_config can pass them).
            target_metadata=config.attributes.get("metadata"),
            render_as_batch=sqlite,
            compare_type=True,
            # One transaction for the whole upgrade, on SQLite too (Alembic's default
            # there is one per revision): a failed check rolls every revision back.
            transactional_ddl=True,
        )
        with context.begin_transaction():
            before = _broken_references(connection) if sqlite else Counter()
            context.run_migrations()
            if sqlite:
                new = _broken_references(connection) - before
                if new:
                    (table, parent), count = new.most_common(1)[0]
                    raise MigrationFailed(
                        f"the migration would leave {new.total()} rows pointing at missing "
                        f"rows ({count} in {table} -> {parent}); nothing was changed"
                    )
        connection.commit()
    finally:
        if sqlite:
            _foreign_keys(driver, on=True)
