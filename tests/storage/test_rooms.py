"""Breakout and report-back repository functions on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage import outbox
from storage import repository as repo
from storage import rooms as store
from storage.db import Database
from storage.migrate import current_tables
from storage.models import Participant
from storage.rooms import BreakoutRound, NewQuote
from tests.storage.sessions import T0, start_session


def _session(db: Database, channel: str = "C1") -> int:
    return start_session(db, channel=channel)


def _round(db: Database, session_id: int, rooms: list[list[str]] | None = None) -> BreakoutRound:
    with db.transaction() as s:
        return store.create_round(
            s,
            session_id=session_id,
            mode="random",
            seed=1,
            prompt=None,
            started_by="U1",
            now=T0,
            ends_at=T0 + timedelta(minutes=15),
            warn_at=T0 + timedelta(minutes=13),
            rooms=[[(u, u == "UF") for u in room] for room in (rooms or [["A", "B"], ["C"]])],
        )


def test_migration_creates_the_breakout_tables(database: Database) -> None:
    assert {
        "breakout_round",
        "breakout_room",
        "breakout_room_member",
        "session_theme",
        "report_back",
        "report_quote",
        "report_theme",
    } <= current_tables(database.engine)


def test_rounds_are_numbered_and_hold_their_rooms(database: Database) -> None:
    session_id = _session(database)
    first = _round(database, session_id, [["A", "UF"], ["B", "C"]])
    assert first.number == 1
    with database.transaction() as s:
        assert store.end_round(
            s, round_id=first.id or 0, now=T0, ended_by=None, reason="time", remind_at=None
        )
    second = _round(database, session_id, [["A", "C"], ["B", "UF"]])
    assert second.number == 2
    with database.read() as s:
        rooms = store.rooms_of(s, round_id=first.id or 0)
        assert [r.number for r in rooms] == [1, 2]
        members = store.members_of(s, round_id=first.id or 0)
        assert {(m.room_id, m.user_id, m.facilitator) for m in members} == {
            (rooms[0].id, "A", False),
            (rooms[0].id, "UF", True),
            (rooms[1].id, "B", False),
            (rooms[1].id, "C", False),
        }
        assert store.latest_round(s, session_id=session_id).id == second.id  # type: ignore[union-attr]
        assert store.running_round(s, session_id=session_id).id == second.id  # type: ignore[union-attr]
        # who met whom in rounds before round 2 (not round 2 itself)
        assert store.earlier_rooms(s, session_id=session_id, before_number=2) == [
            [["A", "UF"], ["B", "C"]]
        ]


def test_one_running_round_per_session(database: Database) -> None:
    session_id = _session(database)
    first = _round(database, session_id)
    with pytest.raises(store.RoundRunning) as raised:
        _round(database, session_id)
    assert raised.value.existing.id == first.id
    # the database itself refuses a second running round (racing starts)
    second = BreakoutRound(
        session_id=session_id,
        number=7,
        mode="random",
        seed=1,
        started_by="U1",
        started_at=T0,
        ends_at=T0,
        warn_at=T0,
    )
    with pytest.raises(IntegrityError), database.transaction() as s:
        s.add(second)
    # another session may run its own
    assert _round(database, _session(database, "C2")).number == 1


def test_end_warn_and_remind_are_compare_and_set(database: Database) -> None:
    breakout = _round(database, _session(database))
    round_id = breakout.id or 0
    with database.transaction() as s:
        assert store.mark_warned(s, round_id=round_id, now=T0)
        assert not store.mark_warned(s, round_id=round_id, now=T0)
        assert not store.mark_reminded(s, round_id=round_id, now=T0)  # not ended yet
        remind_at = T0 + timedelta(minutes=3)
        assert store.end_round(
            s, round_id=round_id, now=T0, ended_by="U1", reason="facilitator", remind_at=remind_at
        )
        assert not store.end_round(
            s, round_id=round_id, now=T0, ended_by=None, reason="time", remind_at=None
        )
    with database.read() as s:
        assert [r.id for r in store.rounds_awaiting_reminders(s)] == [round_id]
        assert store.open_rounds(s) == []
        ended = store.get_round(s, round_id=round_id)
        assert ended is not None
        assert (ended.end_reason, ended.ended_by, ended.remind_at) == (
            "facilitator",
            "U1",
            remind_at,
        )
    with database.transaction() as s:
        assert store.mark_reminded(s, round_id=round_id, now=T0)
        assert not store.mark_reminded(s, round_id=round_id, now=T0)
        room = store.rooms_of(s, round_id=round_id)[0]
        assert store.mark_room_reminded(s, room_id=room.id or 0, now=T0)
        assert not store.mark_room_reminded(s, room_id=room.id or 0, now=T0)
    with database.read() as s:
        assert store.rounds_awaiting_reminders(s) == []


def test_members_join_once_per_round_and_can_move(database: Database) -> None:
    breakout = _round(database, _session(database))
    round_id = breakout.id or 0
    with database.transaction() as s:
        one, two = store.rooms_of(s, round_id=round_id)
        late = store.add_member(
            s,
            round_id=round_id,
            room_id=two.id or 0,
            user_id="D",
            facilitator=False,
            now=T0,
            how="late",
        )
        assert late is not None
        again = store.add_member(
            s,
            round_id=round_id,
            room_id=one.id or 0,
            user_id="D",
            facilitator=False,
            now=T0,
            how="late",
        )
        assert again is None
        store.move_member(s, member_id=late.id or 0, room_id=one.id or 0, now=T0)
    with database.read() as s:
        moved = store.membership(s, round_id=round_id, user_id="D")
        assert moved is not None
        assert (moved.room_id, moved.joined_how) == (one.id, "moved")


def test_report_versions_are_kept_and_the_latest_counts(database: Database) -> None:
    session_id = _session(database)
    breakout = _round(database, session_id)
    with database.transaction() as s:
        room = store.rooms_of(s, round_id=breakout.id or 0)[0]
        housing, buses = store.ensure_themes(
            s, session_id=session_id, names=["Housing", "Buses"], now=T0
        )
        first = store.add_report(
            s,
            room_id=room.id or 0,
            submitted_by="A",
            now=T0,
            summary="First",
            key_points=["one", "two"],
            quotes=[
                NewQuote("Said it", "Member", "Durham", True),
                NewQuote("Also", None, None, False),
            ],
            theme_ids=[housing.id or 0, housing.id or 0],
        )
        second = store.add_report(
            s,
            room_id=room.id or 0,
            submitted_by="B",
            now=T0 + timedelta(minutes=1),
            summary="Second",
            key_points=[],
            quotes=[],
            theme_ids=[buses.id or 0],
        )
    assert (first.version, second.version) == (1, 2)
    with database.read() as s:
        assert store.latest_report(s, room_id=room.id or 0).summary == "Second"  # type: ignore[union-attr]
        versions = store.report_versions(s, room_id=room.id or 0)
        assert [(v.version, v.summary, v.key_points) for v in versions] == [
            (1, "First", "one\ntwo"),
            (2, "Second", ""),
        ]
        quotes = store.report_quotes(s, report_id=first.id or 0)
        assert [(q.position, q.text, q.consent) for q in quotes] == [
            (1, "Said it", True),
            (2, "Also", False),
        ]
        assert [t.name for t in store.report_themes(s, report_id=first.id or 0)] == ["Housing"]
        assert [t.name for t in store.report_themes(s, report_id=second.id or 0)] == ["Buses"]
        assert store.reported_rooms(s, round_id=breakout.id or 0) == {room.id}
    # two reports cannot claim the same version
    clash = store.ReportBack(
        room_id=room.id or 0, version=2, submitted_by="C", submitted_at=T0, summary="x"
    )
    with pytest.raises(IntegrityError), database.transaction() as s:
        s.add(clash)


def test_themes_are_one_per_name_whatever_the_case(database: Database) -> None:
    session_id = _session(database)
    with database.transaction() as s:
        first = store.ensure_themes(
            s, session_id=session_id, names=["Housing", " housing ", "HOUSING"], now=T0
        )
        assert [t.name for t in first] == ["Housing"]
        again = store.ensure_themes(s, session_id=session_id, names=["housing", "Jobs"], now=T0)
        assert [t.id for t in again][:1] == [first[0].id]
    other = _session(database, "C2")
    with database.transaction() as s:
        theirs = store.ensure_themes(s, session_id=other, names=["Housing"], now=T0)
    assert theirs[0].id != first[0].id  # themes belong to their session
    with database.read() as s:
        assert [t.name for t in store.session_themes(s, session_id=session_id)] == [
            "Housing",
            "Jobs",
        ]


def test_present_means_checked_in(database: Database) -> None:
    session_id = _session(database)
    with database.transaction() as s:
        repo.check_in(
            s,
            session_id=session_id,
            user_id="U2",
            role="Member",
            place=None,
            group_name=None,
            consent_to_quote=False,
            now=T0,
        )
        s.add(Participant(session_id=session_id, user_id="U3", updated_at=T0))
    with database.read() as s:
        assert [p.user_id for p in store.checked_in(s, session_id=session_id)] == ["U2"]


def test_deleting_a_round_takes_its_rooms_members_and_reports(database: Database) -> None:
    breakout = _round(database, _session(database))
    with database.transaction() as s:
        room = store.rooms_of(s, round_id=breakout.id or 0)[0]
        store.add_report(
            s,
            room_id=room.id or 0,
            submitted_by="A",
            now=T0,
            summary="x",
            key_points=[],
            quotes=[NewQuote("q", "Member", None, True)],
            theme_ids=[],
        )
    with database.transaction() as s:
        store.delete_round(s, round_id=breakout.id or 0)
    with database.read() as s:
        assert store.get_round(s, round_id=breakout.id or 0) is None
        assert store.rooms_of(s, round_id=breakout.id or 0) == []
        assert store.members_of(s, round_id=breakout.id or 0) == []
        assert store.latest_report(s, room_id=room.id or 0) is None


def test_a_room_can_be_locked_and_a_version_read_by_id(database: Database) -> None:
    breakout = _round(database, _session(database))
    with database.transaction() as s:
        room = store.rooms_of(s, round_id=breakout.id or 0)[0]
        locked = store.lock_room(s, room_id=room.id or 0)
        assert locked is not None
        assert locked.id == room.id
        assert store.lock_room(s, room_id=999_999) is None
        report = store.add_report(
            s,
            room_id=room.id or 0,
            submitted_by="A",
            now=T0,
            summary="x",
            key_points=[],
            quotes=[],
            theme_ids=[],
        )
    with database.read() as s:
        found = store.get_report(s, report_id=report.id or 0)
        assert found is not None
        assert (found.room_id, found.version) == (room.id, 1)


def test_retiring_a_round_s_effects_frees_its_keys_and_leaves_other_rounds_alone(
    database: Database,
) -> None:
    keys = ("round:1:room:1:post", "round:1:member:4:notice", "round:10:room:3:post")
    with database.transaction() as s:
        for key in keys:
            outbox.enqueue(s, key=key, kind="k", target="t", priority=1, args={}, now=T0)
        assert outbox.retire(s, key_prefix="round:1:", now=T0, reason="round undone") == 2
        # The next round with the same id can queue its posts again.
        assert outbox.enqueue(s, key=keys[0], kind="k", target="t", priority=1, args={}, now=T0)
    with database.read() as s:
        rows = {row.key: row for row in outbox.rows(s)}
    assert rows["round:10:room:3:post"].sent_at is None
    assert rows[keys[0]].sent_at is None
    retired = [row for key, row in rows.items() if ":retired:" in key]
    assert len(retired) == 2
    assert all(row.sent_at == T0 and row.failed == "round undone" for row in retired)
