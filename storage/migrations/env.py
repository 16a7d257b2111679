"""Alembic environment: the engine comes from `storage.migrate.alembic_config`."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlmodel import SQLModel

from storage.tables import JOBS_TABLE  # importing it registers every table on the metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError("run migrations with `listening-bot db upgrade`, not the alembic CLI")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave APScheduler's job table alone: its job store creates and owns it."""
    return not (type_ == "table" and name == JOBS_TABLE)


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
