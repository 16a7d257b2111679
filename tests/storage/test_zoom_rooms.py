"""Rounds on Zoom in the database: plans, room matches, who is in the meeting and where, emails."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import repository as repo
from storage import rooms as room_store
from storage.db import Database
from storage.zoom import rooms as store
from storage.zoom.people import SlackEmail, ZoomPerson
from storage.zoom.rooms import LIVE, PREASSIGN
from tests.storage.sessions import T0, start_session


def _person(
    db: Database,
    session_id: int,
    identity: str,
    user_id: str,
    *,
    name: str | None = None,
    email: str | None = None,
    joined: datetime | None = None,
    left: datetime | None = None,
    room: str | None = None,
    room_joined: datetime | None = None,
    room_left: datetime | None = None,
    updated: datetime = T0,
) -> None:
    with db.transaction() as s:
        s.add(
            ZoomPerson(
                session_id=session_id,
                identity=identity,
                user_id=user_id,
                name=name,
                email=email,
                joined_at=joined,
                left_at=left,
                room_uuid=room,
                room_joined_at=room_joined,
                room_left_at=room_left,
                updated_at=updated,
            )
        )


def _participant(db: Database, session_id: int, user_id: str, *, checked_in: bool) -> None:
    with db.transaction() as s:
        if checked_in:
            repo.check_in(
                s,
                session_id=session_id,
                user_id=user_id,
                role="Member",
                place=None,
                group_name=None,
                consent_to_quote=False,
                now=T0,
            )
        else:
            repo.lock_participant(s, session_id=session_id, user_id=user_id, now=T0)


def _round(db: Database, session_id: int, rooms: list[list[str]]) -> int:
    with db.transaction() as s:
        breakout = room_store.create_round(
            s,
            session_id=session_id,
            mode="random",
            seed=1,
            prompt=None,
            started_by="UF",
            now=T0,
            ends_at=T0 + timedelta(minutes=15),
            warn_at=T0 + timedelta(minutes=13),
            rooms=[[(user, False) for user in room] for room in rooms],
        )
        assert breakout.id is not None
        return breakout.id


def test_presence_comes_from_each_persons_latest_join_and_leave(database: Database) -> None:
    session_id = start_session(database)
    minute = timedelta(minutes=1)
    _person(database, session_id, "p-never", "zoom:never")  # a registrant who never came
    assert not _any(database, session_id)
    _person(database, session_id, "p-left", "zoom:left", joined=T0, left=T0 + minute)
    assert not _any(database, session_id)
    _person(database, session_id, "p-back", "zoom:back", joined=T0 + minute, left=T0)
    _person(database, session_id, "p-in", "U1", joined=T0)
    _person(
        database,
        session_id,
        "p-room",
        "U2",
        joined=T0,
        room="zr1",
        room_joined=T0 + minute,
    )
    _person(
        database,
        session_id,
        "p-room-left",
        "U3",
        joined=T0,
        room="zr1",
        room_joined=T0,
        room_left=T0 + minute,
    )
    assert _any(database, session_id)
    with database.read() as s:
        assert store.whereabouts(s, session_id=session_id) == {
            "zoom:back": None,
            "U1": None,
            "U2": "zr1",
            "U3": None,
        }
    other = start_session(database, channel="C2")
    assert not _any(database, other)


def _any(database: Database, session_id: int) -> bool:
    with database.read() as s:
        return store.anyone_present(s, session_id=session_id)


def test_someone_zoom_knows_twice_is_where_they_went_last(database: Database) -> None:
    session_id = start_session(database)
    later = T0 + timedelta(minutes=5)
    _person(database, session_id, "first", "U1", joined=T0, room="old", room_joined=T0)
    _person(database, session_id, "again", "U1", joined=later, room="new", room_joined=later)
    with database.read() as s:
        assert store.whereabouts(s, session_id=session_id) == {"U1": "new"}


def test_candidates_are_the_checked_in_and_those_in_zoom_now(database: Database) -> None:
    session_id = start_session(database)
    _participant(database, session_id, "U1", checked_in=True)
    _participant(database, session_id, "U2", checked_in=False)  # voted only, in Zoom now
    _participant(database, session_id, "U3", checked_in=False)  # voted only, not in Zoom
    _participant(database, session_id, "zoom:aa", checked_in=False)
    _person(database, session_id, "p2", "U2", joined=T0)
    _person(database, session_id, "pa", "zoom:aa", joined=T0)
    _person(database, session_id, "px", "zoom:nobody", joined=T0)  # no participant row
    with database.read() as s:
        found = [p.user_id for p in store.candidates(s, session_id=session_id)]
    assert found == ["U1", "U2", "zoom:aa"]


def test_emails_prefer_what_zoom_knows_and_skip_blanks(database: Database) -> None:
    session_id = start_session(database)
    for user in ("U1", "U2", "U3", "zoom:aa"):
        _participant(database, session_id, user, checked_in=True)
    with database.transaction() as s:
        s.add(SlackEmail(user_id="U1", email="Ana@Slack.org", looked_up_at=T0))
        s.add(SlackEmail(user_id="U2", email="ben@slack.org", looked_up_at=T0))
        s.add(SlackEmail(user_id="U3", email=None, looked_up_at=T0))
        s.add(SlackEmail(user_id="U9", email="elsewhere@x.org", looked_up_at=T0))
    _person(database, session_id, "p2", "U2", email="Ben@Zoom.org")
    _person(database, session_id, "pa", "zoom:aa", email="dan@zoom.org", name="Dan")
    _person(database, session_id, "pb", "zoom:bb", email="  ", name=" ")
    with database.read() as s:
        assert store.emails(s, session_id=session_id) == {
            "U1": "ana@slack.org",
            "U2": "ben@zoom.org",
            "zoom:aa": "dan@zoom.org",
        }
        assert store.zoom_names(s, session_id=session_id) == {"zoom:aa": "Dan"}


def test_a_plan_is_answered_once(database: Database) -> None:
    session_id = start_session(database)
    round_id = _round(database, session_id, [["U1"], ["U2"]])
    with database.transaction() as s:
        store.add_plan(
            s,
            round_id=round_id,
            session_id=session_id,
            meeting_id="81234567890",
            how=PREASSIGN,
            placed=1,
            unplaced=1,
            now=T0,
        )
    with database.transaction() as s:
        assert store.mark_written(s, round_id=round_id, now=T0, problem="x" * 400)
        assert not store.mark_written(s, round_id=round_id, now=T0)
    with database.read() as s:
        plan = store.plan_of(s, round_id=round_id)
    assert plan is not None
    assert plan.how == PREASSIGN
    assert plan.written_at == T0
    assert plan.problem == "x" * 300


def test_room_matches_are_kept_per_round_and_can_change(database: Database) -> None:
    session_id = start_session(database)
    first = _round(database, session_id, [["U1"], ["U2"]])
    with database.read() as s:
        room_ids = [room.id or 0 for room in room_store.rooms_of(s, round_id=first)]
    with database.transaction() as s:
        store.add_plan(
            s,
            round_id=first,
            session_id=session_id,
            meeting_id="81234567890",
            how=LIVE,
            placed=0,
            unplaced=0,
            now=T0,
        )
        store.save_room_matches(s, round_id=first, matches={"za": room_ids[0]}, now=T0)
    with database.transaction() as s:
        store.save_room_matches(
            s, round_id=first, matches={"za": room_ids[1], "zb": room_ids[0]}, now=T0
        )
    with database.read() as s:
        assert store.room_matches(s, round_id=first) == {"za": room_ids[1], "zb": room_ids[0]}
    with database.transaction() as s:
        room_store.delete_round(s, round_id=first)
    with database.read() as s:
        assert store.room_matches(s, round_id=first) == {}
        assert store.plan_of(s, round_id=first) is None
