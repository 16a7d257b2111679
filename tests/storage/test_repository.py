"""Repository functions on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage import outbox, summaries
from storage import repository as repo
from storage.db import Database, create_db_engine
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


def test_a_summary_is_done_once_and_then_not_owed(database: Database) -> None:
    _start(database, channel="C1")  # still running: it owes no summary
    ended = _start(database, channel="C2")
    with database.transaction() as s:
        repo.end_session(s, session_id=ended, ended_by="U1", now=T0)
    with database.read() as s:
        assert summaries.ended_without_summary(s) == [ended]
    later = T0 + timedelta(minutes=5)
    with database.transaction() as s:
        summaries.mark_summary_done(s, session_id=ended, now=T0)
        summaries.mark_summary_done(s, session_id=ended, now=later)  # the first time is kept
    with database.read() as s:
        assert summaries.ended_without_summary(s) == []
        session = repo.get_session(s, session_id=ended)
        assert session is not None
        assert session.summary_posted_at == T0


def test_upgrading_queues_an_unposted_summary_minus_the_channels_it_reached(
    database_url: str,
) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as connection:
            for session_id, posted, channels in [
                (1, None, ""),  # ended, summary never posted
                (2, None, "C0SESSION"),  # posted to the session's channel, not the organisers'
                (3, T0, "C0SESSION,C0SUMMARY"),  # done before the upgrade
            ]:
                connection.execute(
                    text(
                        "INSERT INTO listening_session (id, channel_id, title, started_by,"
                        " started_at, ended_at, summary_posted_at, summary_channels)"
                        " VALUES (:id, :channel, 'Old', 'U1', :t0, :t0, :posted, :channels)"
                    ),
                    {
                        "id": session_id,
                        "channel": f"C{session_id}",
                        "t0": T0.replace(tzinfo=None),
                        "posted": posted.replace(tzinfo=None) if posted else None,
                        "channels": channels,
                    },
                )
        upgrade(engine)
        db = Database(database_url)
        try:
            with db.read() as s:
                rows = {row.key: row for row in outbox.rows(s)}
        finally:
            db.dispose()
    finally:
        engine.dispose()
    assert set(rows) == {"session:1:summary", "session:2:summary"}
    assert {(row.kind, row.target, row.priority) for row in rows.values()} == {
        ("summary.final", "session:1", 1),
        ("summary.final", "session:2", 1),
    }
    assert rows["session:1:summary"].progress is None
    assert json.loads(rows["session:2:summary"].progress or "{}") == {"C0SESSION:done": True}


def test_a_deleted_session_retires_its_outbox_rows_and_frees_their_keys(
    database: Database,
) -> None:
    session_id = _start(database)
    with database.transaction() as s:
        outbox.enqueue(
            s,
            key=f"session:{session_id}:post",
            kind="session.post",
            target=f"session:{session_id}",
            priority=1,
            args={"session_id": session_id},
            now=T0,
        )
    later = T0 + timedelta(minutes=1)
    with database.transaction() as s:
        deleted = repo.delete_session(s, session_id=session_id)
        assert deleted is not None
        outbox.retire(s, key_prefix=f"session:{session_id}:", now=later, reason="session discarded")
        assert repo.delete_session(s, session_id=session_id) is None
    with database.transaction() as s:
        [retired] = outbox.rows(s)
        assert retired.key == f"session:{session_id}:post:retired:{retired.id}"
        assert (retired.sent_at, retired.failed) == (later, "session discarded")
        assert repo.get_session(s, session_id=session_id) is None
        assert outbox.enqueue(
            s,
            key=f"session:{session_id}:post",
            kind="session.post",
            target=f"session:{session_id}",
            priority=1,
            args={},
            now=later,
        )
