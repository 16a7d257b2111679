"""Rounds on Zoom in the database: plans, room matches, who is in the meeting and where, emails."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import repository as repo
from storage import rooms as room_store
from storage.db import Database
from storage.zoom import people as people_store
from storage.zoom import presence as presence_store
from storage.zoom import rooms as store
from storage.zoom.people import SlackEmail, ZoomPerson
from storage.zoom.presence import Sighting
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
) -> None:
    """A Zoom person as presence records them (who they are; presence is `_seen`'s)."""
    with db.transaction() as s:
        s.add(
            ZoomPerson(
                session_id=session_id,
                identity=identity,
                user_id=user_id,
                name=name,
                email=email,
                updated_at=T0,
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


def _seen(
    db: Database,
    session_id: int,
    identity: str,
    *,
    email: str | None = None,
    room: str | None = None,
    joined: datetime | None = T0,
    left: datetime | None = None,
) -> str:
    """What presence does with a join or a leave; returns the person's participant user id."""
    sighting = Sighting(
        identity=identity, email=email, room_uuid=room, joined_at=joined, left_at=left
    )
    with db.transaction() as s:
        return presence_store.apply_sighting(
            s, session_id=session_id, sighting=sighting, source="webhook", now=T0
        )


def test_placements_say_who_is_in_which_zoom_room(database: Database) -> None:
    session_id = start_session(database)
    minute = timedelta(minutes=1)
    main = _seen(database, session_id, "p-main")
    roomed = _seen(database, session_id, "p-room")
    _seen(database, session_id, "p-room", room="zr1", joined=T0 + minute)
    back = _seen(database, session_id, "p-back")
    _seen(database, session_id, "p-back", room="zr1")
    _seen(database, session_id, "p-back", room="zr1", joined=None, left=T0 + minute)
    gone = _seen(database, session_id, "p-gone")
    _seen(database, session_id, "p-gone", joined=None, left=T0 + minute)
    # One person under two identities (a rejoin with the same email): the one in a room counts.
    twice = _seen(database, session_id, "p-first", email="two@x.org")
    assert _seen(database, session_id, "p-again", email="two@x.org", room="zr2") == twice
    with database.read() as s:
        found = store.placements(s, session_id=session_id)
    assert found == {main: None, roomed: "zr1", back: None, twice: "zr2"}
    assert gone not in found
    other = start_session(database, channel="C2")
    with database.read() as s:
        assert store.placements(s, session_id=other) == {}


def test_candidates_are_the_checked_in_and_those_in_zoom_now(database: Database) -> None:
    session_id = start_session(database)
    _participant(database, session_id, "U1", checked_in=True)
    _participant(database, session_id, "U2", checked_in=False)  # voted only, in Zoom now
    _participant(database, session_id, "U3", checked_in=False)  # voted only, not in Zoom
    with database.read() as s:
        assert [p.user_id for p in store.candidates(s, session_id=session_id, present=set())] == [
            "U1"
        ]
        found = store.candidates(s, session_id=session_id, present={"U2", "zoom:nobody"})
    assert [p.user_id for p in found] == ["U1", "U2"]


def test_emails_are_slacks_for_slack_people_else_zooms(database: Database) -> None:
    session_id = start_session(database)
    for user in ("U1", "U2", "U3", "zoom:aa"):
        _participant(database, session_id, user, checked_in=True)
    with database.transaction() as s:
        s.add(SlackEmail(user_id="U1", email="Ana@Slack.org", looked_up_at=T0))
        s.add(SlackEmail(user_id="U2", email="ben@slack.org", looked_up_at=T0))
        s.add(SlackEmail(user_id="U3", email=None, looked_up_at=T0))
        s.add(SlackEmail(user_id="U9", email="elsewhere@x.org", looked_up_at=T0))
    _person(database, session_id, "p2", "U2", email="Ben@Zoom.org")
    _person(database, session_id, "p3", "U3", email="Three@Zoom.org")  # Slack shares none
    _person(database, session_id, "pa", "zoom:aa", email="dan@zoom.org", name="Dan")
    _person(database, session_id, "pb", "zoom:bb", email="  ", name=" ")
    with database.read() as s:
        assert store.emails(s, session_id=session_id) == {
            "U1": "ana@slack.org",
            "U2": "ben@slack.org",
            "U3": "three@zoom.org",
            "zoom:aa": "dan@zoom.org",
        }
        assert store.zoom_names(s, session_id=session_id) == {"zoom:aa": "Dan"}


def test_emails_of_follows_email_of_for_the_people_asked(database: Database) -> None:
    session_id = start_session(database)
    for user in ("U1", "U2", "U3", "zoom:aa"):
        _participant(database, session_id, user, checked_in=True)
    with database.transaction() as s:
        s.add(SlackEmail(user_id="U1", email="ana@slack.org", looked_up_at=T0))
        s.add(SlackEmail(user_id="zoom:aa", email="not@slack.org", looked_up_at=T0))  # ignored
    _person(database, session_id, "p1", "U1", email="ana@zoom.org")
    _person(database, session_id, "p2", "U2", email="first@zoom.org")
    _person(database, session_id, "p2b", "U2", email="second@zoom.org")  # the first one wins
    _person(database, session_id, "pa", "zoom:aa", email="dan@zoom.org")
    users = ["U1", "U2", "U3", "zoom:aa"]
    with database.read() as s:
        found = people_store.emails_of(s, session_id=session_id, user_ids=users)
        one_by_one = {
            user: people_store.email_of(s, session_id=session_id, user_id=user) for user in users
        }
        assert found == {"U1": "ana@slack.org", "U2": "first@zoom.org", "zoom:aa": "dan@zoom.org"}
        assert one_by_one == {**found, "U3": None}
        assert people_store.emails_of(s, session_id=session_id, user_ids=["U2"]) == {
            "U2": "first@zoom.org"
        }
        assert people_store.emails_of(s, session_id=session_id, user_ids=[]) == {}


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
