"""Posted room notes and "has ended" posts: migration 0017, storing them, and erasing the people
they name (the posts to edit are reported), on a real SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import inspect, text

from storage import privacy, rooms
from storage import repository as repo
from storage.db import Database, create_db_engine
from storage.migrate import alembic_config, upgrade
from storage.privacy import Person
from storage.privacy.erased import NOTES
from tests.storage.sessions import T0, start_session


def test_0017_adds_room_notes_and_the_ended_post_and_drops_them_again(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade(engine, "0016")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO listening_session (id, channel_id, title, started_by,"
                    " started_at, message_ts) VALUES (1, 'C1', 'Old', 'U1', :t0, '1.1')"
                ),
                {"t0": T0.replace(tzinfo=None)},
            )
        upgrade(engine)
        found = inspect(engine)
        assert "room_note" in found.get_table_names()
        assert "ended_ts" in {c["name"] for c in found.get_columns("listening_session")}
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT message_ts, ended_ts FROM listening_session WHERE id = 1")
            ).one()
        assert tuple(row) == ("1.1", None)  # kept; nothing posted is known for the old end
        command.downgrade(alembic_config(engine), "0016")
        found = inspect(engine)
        assert "room_note" not in found.get_table_names()
        assert "ended_ts" not in {c["name"] for c in found.get_columns("listening_session")}
    finally:
        engine.dispose()


def _round_with_two_rooms(db: Database) -> tuple[int, int, int, int]:
    """(session, round, room 1, room 2) with U2 in room 1."""
    session_id = start_session(db, user="U1")
    with db.transaction() as s:
        started = rooms.create_round(
            s,
            session_id=session_id,
            mode="random",
            seed=1,
            prompt=None,
            started_by="U1",
            now=T0,
            ends_at=T0 + timedelta(minutes=10),
            warn_at=T0 + timedelta(minutes=8),
            rooms=[[("U2", False)], [("U3", False)]],
        )
        assert started.id is not None
        first, second = rooms.rooms_of(s, round_id=started.id)
        assert first.id is not None
        assert second.id is not None
        return session_id, started.id, first.id, second.id


def test_erasing_a_moved_person_rewrites_their_notes_and_reports_the_posts(
    database: Database,
) -> None:
    session_id, round_id, first, second = _round_with_two_rooms(database)
    with database.transaction() as s:
        repo.set_session_message(s, session_id=session_id, message_ts="1.1")
        # U2 was moved by U1 from room 1 to room 2: both threads heard it.
        notes = [
            rooms.add_note(
                s,
                round_id=round_id,
                room_id=room,
                user_id="U2",
                moved_by="U1",
                from_room_id=first,
                to_room_id=second,
                ts=f"2.{room}",
            )
            for room in (first, second)
        ]
        # U3's note names only U1 as the mover, which no thread note shows.
        other = rooms.add_note(
            s,
            round_id=round_id,
            room_id=second,
            user_id="U3",
            moved_by="U1",
            from_room_id=first,
            to_room_id=second,
            ts="2.9",
        )
    with database.transaction() as s:
        gone = Person(user_ids=frozenset({"U2"}), emails=frozenset())
        erased = privacy.erase(s, person=gone)
        assert erased.notes == {(round_id, note) for note in notes}
        by_mover = privacy.erase(s, person=Person(user_ids=frozenset({"U1"}), emails=frozenset()))
        # The starter of an open session: its message names them; it has no "has ended" yet.
        assert by_mover.session_messages == {session_id}
        assert by_mover.session_ends == set()
        assert by_mover.notes == set()  # moved_by is kept (as a token), never shown in a thread
        assert by_mover.counts[NOTES] == 3
    with database.read() as s:
        kept = [rooms.get_note(s, note_id=note) for note in (*notes, other)]
    assert all(note is not None and privacy.is_erased(note.moved_by or "") for note in kept)
    assert [privacy.is_erased(note.user_id) for note in kept if note] == [True, True, False]
    assert [note.ts for note in kept if note] == [f"2.{first}", f"2.{second}", "2.9"]
