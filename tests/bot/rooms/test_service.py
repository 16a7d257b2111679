"""The room service on a real database, without Slack: each decision commits with its posts.

What Slack then receives is the end-to-end tests' business (tests/e2e/test_rooms*.py); here
the outbox rows are the output.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot.assignment import Mode
from bot.clock import FixedClock
from bot.config import load_settings
from bot.results import Refusal
from bot.rooms import (
    KINDS,
    BreakoutRequest,
    MoveRequest,
    ReportAnswers,
    ReportSaved,
    RoomChange,
    RoomService,
    RoundStarted,
    end_job_id,
    warn_job_id,
)
from bot.rooms import effects as kinds
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from bot.slack.rooms import register_rooms_effects
from bot.slack.sender import OutboxSender
from storage import outbox as outbox_store
from storage import repository as repo
from storage import rooms as store
from storage.db import Database
from tests.storage.sessions import start_session

FACILITATOR = "UF"
PEOPLE = ["U1", "U2", "U3", "U4"]


@pytest.fixture
def deadlines() -> Iterator[Deadlines]:
    scheduled = Deadlines()
    scheduled.start()  # the clock is years ahead: nothing fires during a test
    yield scheduled
    scheduled.stop()


def _service(db: Database, clock: FixedClock, deadlines: Deadlines) -> RoomService:
    settings = load_settings(env_file=None)
    return RoomService(db, settings, clock, SessionService(db, settings, clock), deadlines)


@pytest.fixture
def rooms(sqlite_database: Database, clock: FixedClock, deadlines: Deadlines) -> RoomService:
    return _service(sqlite_database, clock, deadlines)


def _session(rooms: RoomService, people: list[str] = PEOPLE) -> int:
    session_id = start_session(rooms.db, channel="C1", user=FACILITATOR)
    with rooms.db.transaction() as s:
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


def _start(rooms: RoomService, count: int = 2) -> RoundStarted:
    request = BreakoutRequest(
        rooms=count,
        size=None,
        duration=timedelta(minutes=15),
        mode=Mode(),
        prompt=None,
        seed=1,
    )
    started = rooms.start(
        channel_id="C1",
        user_id=FACILITATOR,
        request=request,
        delivery_key=None,
        response_url="https://hooks.example/r1",
    )
    assert isinstance(started, RoundStarted), started
    return started


def _rows(db: Database, kind: str | None = None) -> list[outbox_store.OutboxRow]:
    with db.read() as s:
        return [r for r in outbox_store.rows(s) if kind is None or r.kind == kind]


def _post_all(rooms: RoomService, started: RoundStarted) -> None:
    """What the sender does for each room message: post it and store its ts."""
    for room in started.view.rooms:
        assert room.room.id is not None
        rooms.room_posted(room.room.id, f"17000000{room.number}.000100")


def test_a_round_commits_with_one_message_per_room_in_room_order(rooms: RoomService) -> None:
    _session(rooms)
    started = _start(rooms)
    posts = _rows(rooms.db, kinds.ROOM_POST)
    round_id = started.view.round.id
    assert [r.key for r in posts] == [
        f"round:{round_id}:room:{room.room.id}:post" for room in started.view.rooms
    ]
    assert {r.target for r in posts} == {f"round:{round_id}"}
    assert {r.response_url for r in posts} == {"https://hooks.example/r1"}
    # members are told only once their room is posted, so the notice can link to it
    assert _rows(rooms.db, kinds.ROOM_NOTICE) == []
    _post_all(rooms, started)
    _post_all(rooms, started)  # the sender sending a room again changes nothing
    notices = _rows(rooms.db, kinds.ROOM_NOTICE)
    assert sorted(r.target for r in notices) == [f"user:{u}" for u in PEOPLE]
    assert all(r.expires_at is not None for r in notices)


def test_a_round_none_of_whose_rooms_posted_is_undone_once(rooms: RoomService) -> None:
    _session(rooms)
    started = _start(rooms)
    round_id = started.view.round.id or 0
    assert {warn_job_id(round_id), end_job_id(round_id)} <= set(rooms.deadlines.pending())
    undone = rooms.undo_unposted(round_id)
    assert undone is not None
    assert undone.started_by == FACILITATOR
    assert rooms.round_view(round_id) is None
    # what it owed is never sent, and its keys are free: SQLite may give the next round its id
    owed = [r for r in _rows(rooms.db) if r.key.startswith(f"round:{round_id}:")]
    assert owed
    assert all(":retired:" in r.key and r.sent_at is not None for r in owed)
    assert not {warn_job_id(round_id), end_job_id(round_id)} & set(rooms.deadlines.pending())
    assert rooms.undo_unposted(round_id) is None
    # once a room is in the channel, a refusal of another leaves the round running
    second = _start(rooms)
    first_room = second.view.rooms[0].room.id or 0
    rooms.room_posted(first_room, "1700000001.000100")
    assert rooms.undo_unposted(second.view.round.id or 0) is None
    assert rooms.round_view(second.view.round.id or 0) is not None


def test_timers_queue_each_post_once_and_no_warning_after_the_end(
    rooms: RoomService, clock: FixedClock
) -> None:
    _session(rooms)
    started = _start(rooms)
    round_id = started.view.round.id or 0
    clock.advance(timedelta(minutes=13))
    rooms.warn(round_id)
    rooms.warn(round_id)
    assert len(_rows(rooms.db, kinds.ROOM_WARNING)) == 2
    clock.advance(timedelta(minutes=2))
    rooms.expire(round_id)
    rooms.expire(round_id)
    rooms.recover()
    ends = _rows(rooms.db, kinds.ROOM_END)
    assert [r.key for r in ends] == [
        f"round:{round_id}:room:{room.room.id}:end" for room in started.view.rooms
    ]
    # the warning is marked, but a warning that is due after the end queues nothing
    before = len(_rows(rooms.db))
    rooms.warn(round_id)
    rooms.recover()
    assert len(_rows(rooms.db)) == before


def test_recover_reschedules_a_running_round_and_queues_nothing_again(
    sqlite_database: Database, clock: FixedClock, rooms: RoomService
) -> None:
    _session(rooms)
    started = _start(rooms)
    round_id = started.view.round.id or 0
    _post_all(rooms, started)
    before = [r.key for r in _rows(rooms.db)]
    # a new process: its scheduler knows nothing until recover() reads the rows
    fresh = Deadlines()
    fresh.start()
    try:
        after_restart = _service(sqlite_database, clock, fresh)
        after_restart.recover()
        after_restart.recover()
        pending = fresh.pending()
        assert pending[end_job_id(round_id)] == started.view.round.ends_at
        assert pending[warn_job_id(round_id)] == started.view.round.warn_at
    finally:
        fresh.stop()
    assert [r.key for r in _rows(rooms.db)] == before


def test_a_move_is_checked_and_made_with_its_notices(rooms: RoomService) -> None:
    _session(rooms)
    started = _start(rooms)
    _post_all(rooms, started)
    one, two = started.view.rooms
    person = one.user_ids[0]
    moved = rooms.move(
        channel_id="C1",
        user_id=FACILITATOR,
        request=MoveRequest(person, two.number),
        delivery_key="command:move-1",
    )
    assert isinstance(moved, RoomChange)
    assert person in moved.to_room.user_ids
    assert moved.from_room is not None
    assert person not in moved.from_room.user_ids
    changes = [
        (r.kind, r.target)
        for r in _rows(rooms.db)
        if r.kind in {kinds.MEMBER_TOLD, kinds.MEMBER_NOTE, kinds.ROOM_REFRESH}
    ]
    round_target = f"round:{started.view.round.id}"
    assert changes == [
        (kinds.MEMBER_TOLD, f"user:{person}"),
        (kinds.MEMBER_NOTE, round_target),
        (kinds.ROOM_REFRESH, round_target),
        (kinds.MEMBER_NOTE, round_target),
        (kinds.ROOM_REFRESH, round_target),
    ]
    again = rooms.move(
        channel_id="C1",
        user_id=FACILITATOR,
        request=MoveRequest(person, two.number),
        delivery_key="command:move-2",
    )
    assert isinstance(again, Refusal)
    assert "already in Room" in again.message


def test_a_report_back_commits_with_its_thread_and_channel_posts(rooms: RoomService) -> None:
    _session(rooms)
    started = _start(rooms)
    room = started.view.rooms[0]
    assert room.room.id is not None
    saved = rooms.submit_report(
        room_id=room.room.id,
        user_id=room.user_ids[0],
        answers=ReportAnswers(summary="Buses"),
        delivery_key=None,
    )
    assert isinstance(saved, ReportSaved)
    report_id = saved.content.report.id
    assert [(r.kind, r.key) for r in _rows(rooms.db) if r.kind.startswith("report.")] == [
        (kinds.REPORT_THREAD, f"round:{started.view.round.id}:report:{report_id}:thread"),
        (kinds.REPORT_CHANNEL, f"round:{started.view.round.id}:report:{report_id}:channel"),
    ]
    assert saved.room.reported


def test_every_kind_has_a_sender(sqlite_database: Database, clock: FixedClock) -> None:
    sender = OutboxSender(sqlite_database, clock)
    register_rooms_effects(
        sender,
        client=WebClient(token="xoxb-test"),
        rooms=_service(sqlite_database, clock, Deadlines()),
    )
    assert set(KINDS) <= set(sender.kinds)


@pytest.mark.postgres
def test_two_report_backs_for_one_room_at_once_get_two_versions(
    postgres_database: Database, clock: FixedClock, deadlines: Deadlines
) -> None:
    rooms = _service(postgres_database, clock, deadlines)
    _session(rooms)
    started = _start(rooms)
    room = started.view.rooms[0]
    room_id = room.room.id
    assert room_id is not None
    reporters = room.user_ids[:2]
    rounds = 5
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(reporters))

    def submit(user: str, n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(
                rooms.submit_report(
                    room_id=room_id,
                    user_id=user,
                    answers=ReportAnswers(summary=f"{user} says {n}"),
                    delivery_key=f"view_submission:{user}:{n}",
                )
            )
        except BaseException as error:  # the test fails on any of them
            errors.append(error)

    for n in range(rounds):
        threads = [threading.Thread(target=submit, args=(user, n)) for user in reporters]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert all(isinstance(result, ReportSaved) for result in results)
    with postgres_database.read() as s:
        versions = [r.version for r in store.report_versions(s, room_id=room_id)]
    assert versions == list(range(1, rounds * len(reporters) + 1))
    # each version has its own thread post, queued with it
    assert len(_rows(postgres_database, kinds.REPORT_THREAD)) == rounds * len(reporters)
