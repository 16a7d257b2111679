"""The launch check: a `--zoom` poll Zoom cannot carry is refused before anything is written;
one it can carry gets its Zoom row and create task; the default follows the meeting quietly."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.polls.requests import PollRequest
from bot.results import Refusal
from bot.zoom_polls.service import CREATE, RESULTS, ZoomPolls, queue_results, results_key
from storage import outbox
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession
from storage.zoom import meetings as meeting_store
from storage.zoom import polls as store
from storage.zoom.meetings import ZoomTask
from tests.bot.zoom_polls.helpers import UUID, create_poll, zoom_session
from tests.storage.sessions import start_session

REQUEST = PollRequest(question="Back the strike?", options=("Agree", "Disagree"), zoom=True)
DEFAULT = PollRequest(question="Back the strike?", options=("Agree", "Disagree"))


def _check(
    db: Database, clock: FixedClock, session_id: int, request: PollRequest, **options: bool
) -> Refusal | int | None:
    """Run the check as `PollService.launch` does; the new poll's id when it added something."""
    service = ZoomPolls(
        db,
        clock,
        connected=options.get("connected", True),
        by_default=options.get("by_default", False),
    )
    with db.transaction() as s:
        session = repo.get_session(s, session_id=session_id)
        assert isinstance(session, ListeningSession)
        checked = service.check_launch(s, session, request)
    if checked is None or isinstance(checked, Refusal):
        return checked
    poll = create_poll(db, clock, session_id)
    assert poll.id is not None
    with db.transaction() as s:
        checked(s, poll.id)
    return poll.id


def _tasks(db: Database) -> list[ZoomTask]:
    with db.read() as s:
        return list(s.exec(select(ZoomTask)).all())


def test_a_poll_zoom_can_carry_gets_its_row_and_create_task(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll_id = _check(sqlite_database, clock, session_id, REQUEST)
    assert isinstance(poll_id, int)
    with sqlite_database.read() as s:
        row = store.zoom_poll_of(s, poll_id=poll_id)
    assert row is not None
    assert row.status == store.CREATING
    assert row.meeting_id == "81234567890"
    [task] = _tasks(sqlite_database)
    assert task.kind == CREATE
    assert f'"poll_id": {poll_id}' in task.args


@pytest.mark.parametrize(
    ("request_", "said"),
    [
        (
            PollRequest(question="Q" * 65, options=("A", "B"), zoom=True),
            "holds at most 64 characters, and the question (which becomes the title) has 65. "
            "Shorten the question to 64 characters or fewer",
        ),
        (
            PollRequest(question="Q", options=tuple(str(n) for n in range(11)), zoom=True),
            "takes 2 to 10 answers, and this poll has 11. Give at most 10 options",
        ),
    ],
)
def test_a_poll_past_zoom_limits_is_refused_naming_the_limit(
    sqlite_database: Database, clock: FixedClock, request_: PollRequest, said: str
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    refusal = _check(sqlite_database, clock, session_id, request_)
    assert isinstance(refusal, Refusal)
    assert said in refusal.message
    assert "Nothing was posted" in refusal.message
    assert _tasks(sqlite_database) == []


def test_no_credentials_no_meeting_a_failed_lookup_or_an_instant_meeting_are_refused(
    sqlite_database: Database, clock: FixedClock
) -> None:
    zoom = zoom_session(sqlite_database, clock)
    refusal = _check(sqlite_database, clock, zoom, REQUEST, connected=False)
    assert isinstance(refusal, Refusal)
    assert "ZOOM_ACCOUNT_ID" in refusal.message
    with sqlite_database.transaction() as s:
        repo.end_session(s, session_id=zoom, ended_by="U1", now=clock.now())
    plain = start_session(sqlite_database, channel="C2")
    refusal = _check(sqlite_database, clock, plain, REQUEST)
    assert isinstance(refusal, Refusal)
    assert "no Zoom meeting" in refusal.message
    with sqlite_database.transaction() as s:
        repo.end_session(s, session_id=plain, ended_by="U1", now=clock.now())
    lost = zoom_session(sqlite_database, clock, problem="Zoom has no meeting 812 3456 7890")
    refusal = _check(sqlite_database, clock, lost, REQUEST)
    assert isinstance(refusal, Refusal)
    assert "Zoom has no meeting 812 3456 7890" in refusal.message
    with sqlite_database.transaction() as s:
        repo.end_session(s, session_id=lost, ended_by="U1", now=clock.now())
    instant = zoom_session(sqlite_database, clock, meeting_type=1)
    refusal = _check(sqlite_database, clock, instant, REQUEST)
    assert isinstance(refusal, Refusal)
    assert "only to scheduled meetings" in refusal.message
    assert _tasks(sqlite_database) == []


def test_the_default_adds_every_poll_of_a_zoom_session_unless_slack_only(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    assert _check(sqlite_database, clock, session_id, DEFAULT) is None  # the default is off
    assert isinstance(_check(sqlite_database, clock, session_id, DEFAULT, by_default=True), int)
    slack_only = PollRequest(question="Q", options=("A", "B"), zoom=False)
    assert _check(sqlite_database, clock, session_id, slack_only, by_default=True) is None
    assert (
        _check(sqlite_database, clock, session_id, DEFAULT, by_default=True, connected=False)
        is None
    )
    assert len(_tasks(sqlite_database)) == 1


def test_the_default_runs_a_poll_zoom_cannot_carry_in_slack_and_says_why(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    long = PollRequest(question="Q" * 65, options=("A", "B"))
    poll_id = _check(sqlite_database, clock, session_id, long, by_default=True)
    assert isinstance(poll_id, int)
    with sqlite_database.read() as s:
        row = store.zoom_poll_of(s, poll_id=poll_id)
        notes = [r for r in outbox.rows(s) if r.kind == "zoom.poll.note"]
    assert row is not None
    assert row.status == store.REFUSED
    assert "at most 64 characters" in (row.problem or "")
    assert [n.key for n in notes] == [f"poll:{poll_id}:zoom:not_added"]
    assert _tasks(sqlite_database) == []


def test_the_default_ignores_a_session_without_a_usable_meeting(
    sqlite_database: Database, clock: FixedClock
) -> None:
    lost = zoom_session(sqlite_database, clock, problem="Zoom has no meeting")
    assert _check(sqlite_database, clock, lost, DEFAULT, by_default=True) is None


def test_results_are_queued_once_per_trigger_and_only_for_zoom_polls(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    with sqlite_database.transaction() as s:
        assert not queue_results(s, session_id, clock.now())  # no poll went to Zoom
    _check(sqlite_database, clock, session_id, REQUEST)
    with sqlite_database.transaction() as s:
        assert queue_results(s, session_id, clock.now())
        assert not queue_results(s, session_id, clock.now())
        assert queue_results(s, session_id, clock.now(), trigger="session-end")
    kinds = sorted(task.kind for task in _tasks(sqlite_database))
    assert kinds == [CREATE, RESULTS, RESULTS]


def test_each_meeting_instance_that_ends_gets_its_own_fetch(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)  # bound to instance UUID
    _check(sqlite_database, clock, session_id, REQUEST)
    service = ZoomPolls(sqlite_database, clock, connected=True, by_default=False)
    with sqlite_database.transaction() as s:
        service.on_meeting_ended(s, session_id)
        service.on_meeting_ended(s, session_id)  # a retried webhook: the same instance
        # The host started the meeting again: a new instance, with answers of its own.
        meeting_store.save_meeting(s, session_id=session_id, uuid="second/instance==")
        service.on_meeting_ended(s, session_id)
    fetches = [task for task in _tasks(sqlite_database) if task.kind == RESULTS]
    assert [task.key for task in fetches] == [
        results_key(session_id, "meeting-ended", UUID),
        results_key(session_id, "meeting-ended", "second/instance=="),
    ]
    assert [json.loads(task.args)["uuid"] for task in fetches] == [UUID, "second/instance=="]
