"""Rounds in a session bound to a Zoom meeting, on a real database without Slack or Zoom: how a
round goes to Zoom (pre-assigned, or by name), what it owes the facilitator, and who is where.

The Zoom call itself (tests/bot/rooms/test_zoom_task.py) and what Slack and Zoom then see
(tests/e2e/test_zoom_rooms.py) are tested elsewhere; here the rows are the output.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.assignment import Mode
from bot.clock import FixedClock
from bot.config import load_settings
from bot.rooms import (
    MEETING_STARTED,
    PREASSIGN_TASK,
    BreakoutRequest,
    RoomService,
    RoundStarted,
    preassign_task_key,
    zoom_effects,
)
from bot.rooms import effects as kinds
from bot.rooms.zoom import ROUND_ENDED
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from bot.zoom.breakout import NO_EMAIL
from storage import outbox as outbox_store
from storage import repository as repo
from storage import rooms as room_store
from storage.db import Database
from storage.zoom import meetings as meeting_store
from storage.zoom import presence as presence_store
from storage.zoom import rooms as zoom_store
from storage.zoom.meetings import ZoomTask
from storage.zoom.people import SlackEmail, ZoomPerson
from storage.zoom.presence import Sighting
from storage.zoom.rooms import LIVE, PREASSIGN
from tests.storage.sessions import start_session

FACILITATOR = "UF"
MEETING = "81234567890"
ZOOM_SETTINGS = {
    "ZOOM_ACCOUNT_ID": "acct",
    "ZOOM_CLIENT_ID": "client",
    "ZOOM_CLIENT_SECRET": "secret",
}


@pytest.fixture
def deadlines() -> Iterator[Deadlines]:
    scheduled = Deadlines()
    scheduled.start()  # the clock is years ahead: nothing fires during a test
    yield scheduled
    scheduled.stop()


def _service(db: Database, clock: FixedClock, deadlines: Deadlines, **settings: Any) -> RoomService:
    loaded = load_settings(env_file=None, **settings)
    return RoomService(db, loaded, clock, SessionService(db, loaded, clock), deadlines)


@pytest.fixture
def rooms(sqlite_database: Database, clock: FixedClock, deadlines: Deadlines) -> RoomService:
    service = _service(sqlite_database, clock, deadlines, **ZOOM_SETTINGS)
    woken: list[str] = []
    service.zoom_wake = lambda: woken.append("wake")
    service.woken = woken  # type: ignore[attr-defined]
    return service


def _session(rooms: RoomService, people: list[str], *, meeting: bool = True) -> int:
    session_id = start_session(rooms.db, channel="C1", user=FACILITATOR)
    with rooms.db.transaction() as s:
        if meeting:
            meeting_store.bind_meeting(s, session_id=session_id, meeting_id=MEETING)
        for user in people:
            repo.check_in(
                s,
                session_id=session_id,
                user_id=user,
                role="Member",
                place=None,
                group_name=None,
                consent_to_quote=False,
                now=rooms.clock.now(),
            )
    return session_id


def _zoom_person(rooms: RoomService, session_id: int, user_id: str, **values: Any) -> None:
    with rooms.db.transaction() as s:
        s.add(
            ZoomPerson(
                session_id=session_id,
                identity=values.pop("identity", f"uuid-{user_id}"),
                user_id=user_id,
                updated_at=rooms.clock.now(),
                **values,
            )
        )


def _seen(
    rooms: RoomService,
    session_id: int,
    identity: str,
    *,
    email: str | None = None,
    name: str | None = None,
    room: str | None = None,
    left: bool = False,
) -> str:
    """What presence does with a webhook's join (or leave, with `left`) now; returns the
    person's participant user id (the Slack id when the email is a Slack person's)."""
    now = rooms.clock.now()
    sighting = Sighting(
        identity=identity,
        name=name,
        email=email,
        room_uuid=room,
        joined_at=None if left else now,
        left_at=now if left else None,
    )
    with rooms.db.transaction() as s:
        return presence_store.apply_sighting(
            s, session_id=session_id, sighting=sighting, source="webhook", now=now
        )


def _emails(rooms: RoomService, emails: dict[str, str]) -> None:
    with rooms.db.transaction() as s:
        for user, email in emails.items():
            s.add(SlackEmail(user_id=user, email=email, looked_up_at=rooms.clock.now()))


def _start(rooms: RoomService, count: int = 2) -> RoundStarted:
    request = BreakoutRequest(
        rooms=count, size=None, duration=timedelta(minutes=15), mode=Mode(), prompt=None, seed=1
    )
    started = rooms.start(channel_id="C1", user_id=FACILITATOR, request=request, delivery_key=None)
    assert isinstance(started, RoundStarted), started
    return started


def _rows(db: Database, kind: str) -> list[outbox_store.OutboxRow]:
    with db.read() as s:
        return [r for r in outbox_store.rows(s) if r.kind == kind]


def _tasks(db: Database) -> list[ZoomTask]:
    with db.read() as s:
        return list(s.exec(select(ZoomTask)).all())


def _start_meeting(rooms: RoomService, session_id: int) -> None:
    with rooms.db.transaction() as s:
        meeting_store.save_meeting(s, session_id=session_id, started_at=rooms.clock.now())


# -- before the meeting starts ------------------------------------------------------------------


def test_a_round_before_the_meeting_is_its_pre_assignment(rooms: RoomService) -> None:
    session_id = _session(rooms, ["U1", "U2", "U3", "zoom:reg"])
    _emails(rooms, {"U1": "u1@x.org", "U2": "u2@x.org"})
    # A Zoom-only registrant: checked in from their registration answers, not yet joined.
    _zoom_person(rooms, session_id, "zoom:reg", email="reg@x.org", name="Reg")
    started = _start(rooms)
    round_id = started.view.round.id or 0
    note = started.zoom
    assert note is not None
    assert (note.how, note.rooms, note.placed, note.written) == (PREASSIGN, 2, 3, True)
    assert dict(note.unplaced) == {NO_EMAIL: 1}
    assert started.view.zoom is not None
    assert started.view.zoom.how == PREASSIGN
    assert started.view.names == {"zoom:reg": "Reg"}
    [task] = _tasks(rooms.db)
    assert (task.kind, task.key, task.session_id) == (
        PREASSIGN_TASK,
        preassign_task_key(round_id),
        session_id,
    )
    assert task.args == f'{{"round_id": {round_id}}}'
    assert rooms.woken == ["wake"]  # type: ignore[attr-defined]
    [csv] = _rows(rooms.db, zoom_effects.ZOOM_CSV)
    assert (csv.key, csv.target) == (f"round:{round_id}:zoom:csv", f"user:{FACILITATOR}")
    assert _rows(rooms.db, zoom_effects.ZOOM_PASTE) == []
    found = rooms.preassignment_of(round_id)
    assert found is not None
    assert found[1].placed == 3


def test_without_zoom_credentials_there_is_only_the_csv(
    sqlite_database: Database, clock: FixedClock, deadlines: Deadlines
) -> None:
    rooms = _service(sqlite_database, clock, deadlines)
    _session(rooms, ["U1", "U2"])
    started = _start(rooms)
    assert started.zoom is not None
    assert (started.zoom.how, started.zoom.written) == (PREASSIGN, False)
    assert _tasks(rooms.db) == []
    assert len(_rows(rooms.db, zoom_effects.ZOOM_CSV)) == 1


def test_a_slack_only_session_or_a_meeting_zoom_refused_has_no_zoom_plan(
    rooms: RoomService,
) -> None:
    session_id = _session(rooms, ["U1", "U2"], meeting=False)
    started = _start(rooms)
    assert started.zoom is None
    assert started.view.zoom is None
    rooms.end(channel_id="C1", user_id=FACILITATOR, delivery_key=None)
    with rooms.db.transaction() as s:
        meeting_store.bind_meeting(s, session_id=session_id, meeting_id=MEETING)
        meeting_store.save_meeting(s, session_id=session_id, problem="Zoom cannot find it")
    assert _start(rooms).zoom is None
    assert _tasks(rooms.db) == []
    assert _rows(rooms.db, zoom_effects.ZOOM_CSV) == []


# -- while the meeting runs ---------------------------------------------------------------------


def test_a_round_in_a_running_meeting_is_announced_by_name(rooms: RoomService) -> None:
    session_id = _session(rooms, ["U1", "U2"])
    _start_meeting(rooms, session_id)
    started = _start(rooms)
    assert started.zoom is not None
    assert (started.zoom.how, started.zoom.rooms) == (LIVE, 2)
    assert _tasks(rooms.db) == []
    assert rooms.woken == []  # type: ignore[attr-defined]
    [paste] = _rows(rooms.db, zoom_effects.ZOOM_PASTE)
    assert paste.target == f"user:{FACILITATOR}"
    assert _rows(rooms.db, zoom_effects.ZOOM_CSV) == []


def test_someone_in_the_meeting_means_it_runs_and_zoom_people_are_placed(
    rooms: RoomService, clock: FixedClock
) -> None:
    session_id = _session(rooms, ["U1", "U2"])
    with rooms.db.transaction() as s:
        repo.lock_participant(s, session_id=session_id, user_id="U9", now=rooms.clock.now())
    _emails(rooms, {"U9": "nine@x.org"})
    dan = _seen(rooms, session_id, "p-dan", name="Dan")  # Zoom-only, seen in the meeting
    assert _seen(rooms, session_id, "p-nine", email="nine@x.org") == "U9"  # not checked in
    _seen(rooms, session_id, "p-gone", name="Gone")
    clock.advance(timedelta(minutes=1))
    _seen(rooms, session_id, "p-gone", left=True)
    # A Zoom-only registrant, checked in from their answers, who never joined.
    _zoom_person(rooms, session_id, "zoom:reg", email="reg@x.org", name="Reg")
    with rooms.db.transaction() as s:
        repo.check_in(
            s,
            session_id=session_id,
            user_id="zoom:reg",
            role="Member",
            place=None,
            group_name=None,
            consent_to_quote=False,
            now=rooms.clock.now(),
        )
    started = _start(rooms, 3)
    assert started.zoom is not None
    assert started.zoom.how == LIVE
    placed = {user for room in started.view.rooms for user in room.user_ids}
    # Gone (checked in by their earlier stay) and the registrant are not in the meeting now:
    # a room in it is no use to them. Slack people checked in are placed wherever they are.
    assert placed == {"U1", "U2", "U9", dan}
    assert started.view.names[dan] == "Dan"


def test_zoom_only_people_get_no_room_notice(rooms: RoomService) -> None:
    session_id = _session(rooms, ["U1", "zoom:reg"])
    _zoom_person(rooms, session_id, "zoom:reg", name="Reg")
    started = _start(rooms, 1)
    for room in started.view.rooms:
        rooms.room_posted(room.room.id or 0, "1700000001.000100")
    assert [r.target for r in _rows(rooms.db, kinds.ROOM_NOTICE)] == ["user:U1"]


# -- the pre-assignment task's side -------------------------------------------------------------


def test_zoom_taking_the_pre_assignment_is_told_once(rooms: RoomService) -> None:
    _session(rooms, ["U1", "U2"])
    _emails(rooms, {"U1": "u1@x.org"})
    round_id = _start(rooms).view.round.id or 0
    call = rooms.preassign_call(round_id)
    assert isinstance(call, tuple)
    meeting_id, plan = call
    assert meeting_id == MEETING
    assert plan.placed == 1
    rooms.preassign_answered(round_id, None)
    rooms.preassign_answered(round_id, None)  # the task ran twice (after a crash)
    [told] = _rows(rooms.db, zoom_effects.ZOOM_WRITTEN)
    assert told.target == f"user:{FACILITATOR}"
    assert rooms.preassign_call(round_id) is None  # answered: nothing more to do
    view = rooms.round_view(round_id)
    assert view is not None
    assert view.zoom is not None
    assert view.zoom.written_at is not None
    assert view.zoom.problem is None


def test_a_meeting_started_first_gets_no_call_and_the_list_to_paste(rooms: RoomService) -> None:
    session_id = _session(rooms, ["U1", "U2"])
    round_id = _start(rooms).view.round.id or 0
    _start_meeting(rooms, session_id)
    assert rooms.preassign_call(round_id) == MEETING_STARTED
    rooms.preassign_answered(round_id, MEETING_STARTED)
    assert len(_rows(rooms.db, zoom_effects.ZOOM_WRITTEN)) == 1
    assert len(_rows(rooms.db, zoom_effects.ZOOM_PASTE)) == 1


def test_a_round_ended_first_gets_no_call_and_no_message(rooms: RoomService) -> None:
    _session(rooms, ["U1", "U2"])
    round_id = _start(rooms).view.round.id or 0
    rooms.end(channel_id="C1", user_id=FACILITATOR, delivery_key=None)
    assert rooms.preassign_call(round_id) == ROUND_ENDED
    rooms.preassign_answered(round_id, ROUND_ENDED)
    assert _rows(rooms.db, zoom_effects.ZOOM_WRITTEN) == []
    assert rooms.preassign_call(round_id) is None


def test_an_undone_round_gets_no_call(rooms: RoomService) -> None:
    _session(rooms, ["U1", "U2"])
    round_id = _start(rooms).view.round.id or 0
    assert rooms.undo_unposted(round_id) is not None
    assert rooms.preassign_call(round_id) is None
    rooms.preassign_answered(round_id, None)
    assert _rows(rooms.db, zoom_effects.ZOOM_WRITTEN) == []


# -- who is where -------------------------------------------------------------------------------


def test_status_compares_where_people_are_with_the_plan(
    rooms: RoomService, clock: FixedClock
) -> None:
    people = ["U1", "U2", "U3", "U4", "U5", "U6"]
    session_id = _session(rooms, people)
    _emails(rooms, {user: f"{user.lower()}@x.org" for user in people})
    _start_meeting(rooms, session_id)
    started = _start(rooms, 2)
    plan = {room.number: list(room.user_ids) for room in started.view.rooms}
    one, two = plan[1], plan[2]

    def into(user: str, room: str | None) -> None:
        assert _seen(rooms, session_id, f"p-{user}", email=f"{user.lower()}@x.org") == user
        if room is not None:
            _seen(rooms, session_id, f"p-{user}", room=room)

    # Zoom room "za": two of Room 1's people and one of Room 2's -> it is Room 1.
    into(one[0], "za")
    into(one[1], "za")
    into(two[0], "za")
    # Zoom room "zb": one of Room 2's people and someone outside the plan -> Room 2.
    into(two[1], "zb")
    late = _seen(rooms, session_id, "p-late", name="Late", room="zb")
    # Zoom room "zc": only someone outside the plan -> matches nothing.
    lost = _seen(rooms, session_id, "p-lost", name="Lost", room="zc")
    # In the meeting, in no room; and not in Zoom at all: the last of Room 2.
    into(one[2], None)
    session = rooms.sessions.active_session("C1")
    assert session is not None
    status = rooms.zoom_room_status(session)
    assert status is not None
    first, second = status.rooms
    assert (first.here, first.elsewhere, first.not_in_room, first.not_in_zoom) == (
        one[:2],
        [],
        [one[2]],
        [],
    )
    assert (second.here, second.elsewhere, second.visitors) == ([two[1]], [(two[0], 1)], [late])
    assert second.not_in_zoom == [two[2]]
    assert first.visitors == []  # two[0] is planned elsewhere, not a visitor
    assert status.unmatched == [[lost]]
    round_id = started.view.round.id or 0
    ids = {room.number: room.room.id for room in started.view.rooms}
    with rooms.db.read() as s:
        assert zoom_store.room_matches(s, round_id=round_id) == {"za": ids[1], "zb": ids[2]}
    # Everyone leaves "za": it stays Room 1, and a second look changes nothing stored.
    clock.advance(timedelta(minutes=1))
    for user in (one[0], one[1], two[0]):
        _seen(rooms, session_id, f"p-{user}", room="za", left=True)
    again = rooms.zoom_room_status(session)
    assert again is not None
    assert again.rooms[0].here == []
    assert again.rooms[0].not_in_room == [one[0], one[1], one[2]]
    with rooms.db.read() as s:
        assert zoom_store.room_matches(s, round_id=round_id) == {"za": ids[1], "zb": ids[2]}


def test_no_status_without_a_round_or_without_zoom(rooms: RoomService) -> None:
    _session(rooms, ["U1", "U2"], meeting=False)
    session = rooms.sessions.active_session("C1")
    assert session is not None
    assert rooms.zoom_room_status(session) is None
    _start(rooms)
    assert rooms.zoom_room_status(session) is None
    with rooms.db.read() as s:
        assert room_store.running_round(s, session_id=session.id or 0) is not None
