"""Repository functions on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage import repository as repo
from storage.db import Database
from storage.migrate import current_tables, upgrade
from storage.models import ListeningSession
from tests.storage.sessions import T0, start_session


def _start(db: Database, channel: str = "C1", user: str = "U1", title: str = "Durham") -> int:
    return start_session(
        db, channel=channel, user=user, title=title, area="Durham", group_type="CLP"
    )


def test_migrations_create_every_table_and_match_the_models(database: Database) -> None:
    assert {"listening_session", "session_facilitator", "participant", "delivery"} <= (
        current_tables(database.engine)
    )
    upgrade(database.engine)  # a second upgrade is a no-op, as on every restart
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_one_active_session_per_channel(database: Database) -> None:
    first = _start(database)
    with pytest.raises(repo.ActiveSessionExists) as raised, database.transaction() as s:
        repo.create_session(
            s,
            channel_id="C1",
            title="Second",
            area=None,
            group_type=None,
            zoom_meeting_id=None,
            started_by="U2",
            now=T0,
        )
    assert raised.value.existing.id == first
    assert _start(database, channel="C2") != first  # other channels are independent
    with database.transaction() as s:
        assert repo.end_session(s, session_id=first, ended_by="U1", now=T0)
    assert _start(database, title="Next week") != first


def test_the_database_itself_refuses_a_second_active_session(database: Database) -> None:
    _start(database)
    raced = ListeningSession(channel_id="C1", title="Raced", started_by="U9", started_at=T0)
    with database.transaction() as s:
        s.add(raced)
        with pytest.raises(IntegrityError):
            s.flush()
        s.rollback()


def test_ending_is_a_compare_and_set(database: Database) -> None:
    session_id = _start(database)
    with database.transaction() as s:
        assert repo.end_session(s, session_id=session_id, ended_by="U1", now=T0) is True
    with database.transaction() as s:
        assert repo.end_session(s, session_id=session_id, ended_by="U2", now=T0) is False
        ended = repo.get_session(s, session_id=session_id)
    assert ended is not None
    assert ended.ended_by == "U1"
    assert ended.ended_at == T0


def test_times_come_back_as_aware_utc(database: Database) -> None:
    session_id = _start(database)
    with database.read() as s:
        session = repo.get_session(s, session_id=session_id)
    assert session is not None
    assert session.started_at == T0
    assert session.started_at.tzinfo is not None


def test_starter_is_a_facilitator(database: Database) -> None:
    session_id = _start(database, user="U77")
    with database.read() as s:
        assert repo.session_facilitators(s, session_id=session_id) == {"U77"}


def test_check_in_creates_then_updates(database: Database) -> None:
    session_id = _start(database)
    with database.transaction() as s:
        person, first = repo.check_in(
            s,
            session_id=session_id,
            user_id="U5",
            role="Member",
            place="Durham",
            group_name="CLP",
            consent_to_quote=False,
            now=T0,
        )
    assert first is True
    later = T0 + timedelta(minutes=5)
    with database.transaction() as s:
        again, first_again = repo.check_in(
            s,
            session_id=session_id,
            user_id="U5",
            role="Councillor",
            place="Sunderland",
            group_name=None,
            consent_to_quote=True,
            now=later,
        )
    assert first_again is False
    assert again.id == person.id
    with database.read() as s:
        stored = repo.get_participant(s, session_id=session_id, user_id="U5")
    assert stored is not None
    assert (stored.role, stored.place, stored.group_name) == ("Councillor", "Sunderland", None)
    assert stored.consent_to_quote is True
    assert stored.checked_in_at == T0  # first check-in time is kept
    assert stored.updated_at == later


def test_attendance_counts_by_role_and_group(database: Database) -> None:
    session_id = _start(database)
    people = [
        ("U1", "Member", "CLP"),
        ("U2", "Member", "Union branch"),
        ("U3", "Councillor", "CLP"),
        ("U4", None, None),
    ]
    with database.transaction() as s:
        for user, role, group in people:
            repo.check_in(
                s,
                session_id=session_id,
                user_id=user,
                role=role,
                place=None,
                group_name=group,
                consent_to_quote=False,
                now=T0,
            )
    with database.read() as s:
        counts = repo.attendance(s, session_id=session_id)
    assert counts.checked_in == 4
    assert dict(counts.by_role) == {"Member": 2, "Councillor": 1, "Not given": 1}
    assert dict(counts.by_group) == {"CLP": 2, "Union branch": 1, "Not given": 1}


def test_a_delivery_commits_with_its_effect_and_only_once(database: Database) -> None:
    with database.transaction() as s:
        repo.record_delivery(s, key="command:T1", now=T0)
    with pytest.raises(repo.DuplicateDelivery), database.transaction() as s:
        repo.record_delivery(s, key="command:T1", now=T0)
    with database.read() as s:
        assert repo.delivery_seen(s, key="command:T1")


def test_a_failed_attempt_forgets_its_delivery_so_a_retry_can_succeed(database: Database) -> None:
    def fail_after_recording() -> None:
        with database.transaction() as s:
            repo.record_delivery(s, key="command:T2", now=T0)
            raise RuntimeError("the effect failed")

    with pytest.raises(RuntimeError):
        fail_after_recording()
    with database.read() as s:
        assert not repo.delivery_seen(s, key="command:T2")


def test_old_deliveries_are_pruned(database: Database) -> None:
    with database.transaction() as s:
        repo.record_delivery(s, key="old", now=T0)
        repo.record_delivery(s, key="new", now=T0 + timedelta(hours=2))
    with database.transaction() as s:
        assert repo.prune_deliveries(s, before=T0 + timedelta(hours=1)) == 1
    with database.read() as s:
        assert not repo.delivery_seen(s, key="old")
        assert repo.delivery_seen(s, key="new")


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000


def test_deleting_a_session_removes_its_people(database: Database) -> None:
    session_id = _start(database)
    with database.transaction() as s:
        repo.check_in(
            s,
            session_id=session_id,
            user_id="U1",
            role="Member",
            place=None,
            group_name=None,
            consent_to_quote=False,
            now=T0,
        )
    with database.transaction() as s:
        session = repo.get_session(s, session_id=session_id)
        s.delete(session)
    with database.read() as s:
        assert repo.get_participant(s, session_id=session_id, user_id="U1") is None
