"""Migrations when several replicas start together on one PostgreSQL database."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import Database
from storage.migrate import alembic_config, current_tables, upgrade

REPLICAS = 3


def _upgrade_with_the_others(url: str, barrier: Barrier) -> None:
    """One replica: connect, wait for the others, then upgrade (run in a child process)."""
    db = Database(url)
    try:
        with db.engine.connect() as connection:  # connected before the start, like a replica
            connection.execute(text("SELECT 1"))
        barrier.wait(timeout=30)
        upgrade(db.engine)
    finally:
        db.dispose()


@pytest.mark.postgres
def test_replicas_starting_together_upgrade_an_empty_database_once(postgres_url: str) -> None:
    # Processes, not threads: Alembic keeps the running migration in module globals, and
    # replicas are processes anyway.
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(REPLICAS)
    replicas = [
        spawn.Process(target=_upgrade_with_the_others, args=(postgres_url, barrier))
        for _ in range(REPLICAS)
    ]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join(timeout=120)
    assert [replica.exitcode for replica in replicas] == [0] * REPLICAS

    db = Database(postgres_url)
    try:
        head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
        with db.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [row[0] for row in versions] == [head]
        assert {"listening_session", "participant", "delivery"} <= current_tables(db.engine)
        upgrade(db.engine)  # and a later start finds nothing to do
    finally:
        db.dispose()
