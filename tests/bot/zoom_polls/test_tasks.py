"""The Zoom worker's poll tasks against a stand-in for the API: create, fetch and merge the
answers (late, once, counted once), give up after 2 hours, delete from recurring meetings."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.standin.zoom import FakeZoom
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomForbidden,
    ZoomNotFound,
    ZoomRejected,
    ZoomUnavailable,
)
from bot.zoom.tasks import Again, GiveUp
from bot.zoom_polls.service import (
    CREATE,
    DELETE,
    EMAIL_WAIT,
    FETCH_FOR,
    RESULTS,
    queue_results,
)
from bot.zoom_polls.tasks import ZoomPollTasks
from storage import outbox, privacy
from storage import polls as poll_store
from storage import repository as repo
from storage.db import Database
from storage.polls import Poll
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom import polls as store
from storage.zoom.meetings import DueTask, ZoomTask
from storage.zoom.people import SlackEmail
from tests.bot.zoom_polls.helpers import MEETING_ID, StubZoom, create_poll, zoom_session

PAST_POLLS = "/past_meetings/abc%2B%2Fdef%3D%3D/polls"  # the instance's uuid, encoded once
POLLS = f"/meetings/{MEETING_ID}/polls"


def _task(kind: str, session_id: int, clock: FixedClock, **args: object) -> DueTask:
    return DueTask(
        id=1,
        key="k",
        kind=kind,
        session_id=session_id,
        args=args,
        attempts=0,
        created_at=clock.now(),
    )


def _zoom_poll(db: Database, clock: FixedClock, session_id: int, **options: object) -> Poll:
    poll = create_poll(db, clock, session_id, **options)  # type: ignore[arg-type]
    with db.transaction() as s:
        store.add_zoom_poll(
            s, poll_id=poll.id or 0, session_id=session_id, meeting_id=MEETING_ID, now=clock.now()
        )
    return poll


def _created(db: Database, poll: Poll, zoom_poll_id: str = "zp1") -> None:
    with db.transaction() as s:
        store.set_created(s, poll_id=poll.id or 0, zoom_poll_id=zoom_poll_id)


def _close(db: Database, clock: FixedClock, poll: Poll) -> None:
    with db.transaction() as s:
        poll_store.close_poll(
            s, poll_id=poll.id or 0, now=clock.now(), reason="command", closed_by="U1"
        )


def _effects(db: Database) -> list[str]:
    with db.read() as s:
        return [row.key for row in outbox.rows(s)]


def _row(db: Database, poll: Poll) -> store.ZoomPoll:
    with db.read() as s:
        row = store.zoom_poll_of(s, poll_id=poll.id or 0)
    assert row is not None
    return row


def _respondent(email: str, answer: str, polling_id: str = "zp1") -> dict[str, object]:
    return {
        "name": email.split("@")[0],
        "email": email,
        "question_details": [
            {"question": "Back the strike?", "answer": answer, "polling_id": polling_id}
        ],
    }


# -- creating -----------------------------------------------------------------------------------


def test_the_poll_is_posted_to_the_meeting_and_its_thread_told(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id, multi=True)
    zoom = StubZoom()
    zoom.answer("GET", POLLS, {"total_records": 0, "polls": []})
    zoom.answer("POST", POLLS, {"id": "zp1", "status": "notstart"})
    tasks = ZoomPollTasks(sqlite_database, clock)
    task = _task(CREATE, session_id, clock, poll_id=poll.id)
    assert tasks.create(zoom.api, task) is None
    [listed, (method, path, category, body)] = zoom.calls
    assert listed[:3] == ("GET", POLLS, Category.LIGHT)
    assert (method, path, category) == ("POST", POLLS, Category.LIGHT)
    assert body["questions"][0]["type"] == "multiple"
    assert _row(sqlite_database, poll).zoom_poll_id == "zp1"
    assert _effects(sqlite_database) == [f"poll:{poll.id}:zoom:created"]
    assert tasks.create(zoom.api, task) is None  # a second run calls Zoom no more
    assert len(zoom.calls) == 2


def test_a_poll_already_in_the_meeting_is_adopted_not_created_again(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    earlier = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, earlier, "zp-earlier")  # the same question, asked before
    poll = _zoom_poll(sqlite_database, clock, session_id)
    question = {"name": "Back the strike?", "type": "single", "answers": ["Agree", "Disagree"]}
    zoom = StubZoom()
    zoom.answer(
        "GET",
        POLLS,
        {
            "polls": [
                # The earlier poll's own: another poll of the bot holds it.
                {"id": "zp-earlier", "title": "Back the strike?", "questions": [question]},
                {"id": "zp-other", "title": "Back the strike?", "questions": []},
                # What a create whose answer was lost left in the meeting.
                {"id": "zp-lost", "title": "Back the strike?", "questions": [question]},
            ]
        },
    )
    tasks = ZoomPollTasks(sqlite_database, clock)
    assert tasks.create(zoom.api, _task(CREATE, session_id, clock, poll_id=poll.id)) is None
    assert [call[0] for call in zoom.calls] == ["GET"]  # nothing POSTed
    row = _row(sqlite_database, poll)
    assert (row.status, row.zoom_poll_id) == (store.CREATED, "zp-lost")
    assert _effects(sqlite_database) == [f"poll:{poll.id}:zoom:created"]


def test_a_create_timing_out_after_zoom_stored_the_poll_leaves_one_poll_in_the_meeting(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    with FakeZoom() as fake:
        fake.add_meeting(MEETING_ID, topic="Durham")
        # One try per call, as the client makes a POST (a retry could create it twice).
        api = ZoomApi(
            account_id=fake.account_id,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            api_url=fake.api_url,
            oauth_url=fake.oauth_url,
            timeout=1.5,  # one a normal answer beats, on a loaded machine too
            max_attempts=1,
        )
        # Zoom stores it; its answer comes too late (it ends when the fake stops).
        fake.slow("POST", POLLS, seconds=10)
        tasks = ZoomPollTasks(sqlite_database, clock)
        task = _task(CREATE, session_id, clock, poll_id=poll.id)
        with pytest.raises(ZoomUnavailable):
            tasks.create(api, task)
        assert _row(sqlite_database, poll).status == store.CREATING
        assert tasks.create(api, task) is None  # the worker's rerun
        [created] = fake.polls(MEETING_ID)
    row = _row(sqlite_database, poll)
    assert (row.status, row.zoom_poll_id) == (store.CREATED, created["id"])
    assert _effects(sqlite_database) == [f"poll:{poll.id}:zoom:created"]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (ZoomForbidden("Only available for Paid account.", status=400, code=200), "Pro plan"),
        (ZoomRejected("Polls are not available.", status=400, code=3000), "scheduled meetings"),
        (ZoomNotFound("Meeting does not exist.", status=404, code=3001), "did not find"),
    ],
)
def test_zoom_refusing_the_poll_is_recorded_and_told(
    sqlite_database: Database, clock: FixedClock, error: Exception, said: str
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    zoom = StubZoom()
    zoom.answer("GET", POLLS, {"polls": []})
    zoom.answer("POST", POLLS, error)
    outcome = ZoomPollTasks(sqlite_database, clock).create(
        zoom.api, _task(CREATE, session_id, clock, poll_id=poll.id)
    )
    assert isinstance(outcome, GiveUp)
    assert said in outcome.reason
    row = _row(sqlite_database, poll)
    assert row.status == store.REFUSED
    assert said in (row.problem or "")
    assert _effects(sqlite_database) == [f"poll:{poll.id}:zoom:refused"]


def test_zoom_being_down_is_left_to_the_worker_to_retry(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    zoom = StubZoom()
    zoom.answer("GET", POLLS, {"polls": []})
    zoom.answer("POST", POLLS, ZoomUnavailable("timed out"))
    with pytest.raises(ZoomUnavailable):
        ZoomPollTasks(sqlite_database, clock).create(
            zoom.api, _task(CREATE, session_id, clock, poll_id=poll.id)
        )
    assert _row(sqlite_database, poll).status == store.CREATING
    assert _effects(sqlite_database) == []


def test_a_poll_undone_before_its_creation_is_not_created(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    with sqlite_database.transaction() as s:
        poll_store.delete_poll(s, poll_id=poll.id or 0)
    zoom = StubZoom()
    assert (
        ZoomPollTasks(sqlite_database, clock).create(
            zoom.api, _task(CREATE, session_id, clock, poll_id=poll.id)
        )
        is None
    )
    assert zoom.calls == []


# -- fetching and merging the answers ---------------------------------------------------------


def _results_task(session_id: int, clock: FixedClock, since: datetime | None = None) -> DueTask:
    return _task(RESULTS, session_id, clock, since=(since or clock.now()).isoformat())


def test_answers_not_published_yet_are_fetched_again_in_two_minutes(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll)
    _close(sqlite_database, clock, poll)
    zoom = StubZoom()
    zoom.answer(
        "GET", PAST_POLLS, ZoomNotFound("not yet", status=404, code=3001), {"questions": []}
    )
    tasks = ZoomPollTasks(sqlite_database, clock)
    task = _results_task(session_id, clock)
    assert tasks.fetch_results(zoom.api, task) == Again(at=clock.now() + timedelta(minutes=2))
    assert tasks.fetch_results(zoom.api, task) == Again(at=clock.now() + timedelta(minutes=2))
    assert zoom.calls[0][2] == Category.MEDIUM
    assert _row(sqlite_database, poll).status == store.CREATED


def test_answers_are_merged_once_counting_a_slack_voter_once(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    poll_id = poll.id or 0
    _created(sqlite_database, poll)
    with sqlite_database.transaction() as s:
        poll_store.add_participant(s, session_id=session_id, user_id="U7", now=clock.now())
        poll_store.choose(s, poll_id=poll_id, user_id="U7", option_index=0)
        s.add(SlackEmail(user_id="U7", email="u7@example.org", looked_up_at=clock.now()))
        repo.end_session(s, session_id=session_id, ended_by="U1", now=clock.now())
    _close(sqlite_database, clock, poll)
    zoom = StubZoom()
    zoom.answer(
        "GET",
        PAST_POLLS,
        {
            "questions": [
                _respondent("U7@example.org", "Disagree"),
                _respondent("zo@example.org", "Agree"),
                _respondent("other@example.org", "Agree", polling_id="another-poll"),
            ]
        },
    )
    tasks = ZoomPollTasks(sqlite_database, clock)
    assert tasks.fetch_results(zoom.api, _results_task(session_id, clock)) is None
    row = _row(sqlite_database, poll)
    assert (row.status, row.answers_added, row.duplicates) == (store.MERGED, 1, 1)
    with sqlite_database.read() as s:
        tally = store.zoom_tally(s, poll_id=poll_id, option_count=2)
    assert tally is not None
    assert tally.counts == (1, 0)
    effects = _effects(sqlite_database)
    assert f"poll:{poll_id}:zoom:results" in effects
    assert any(key.startswith(f"session:{session_id}:summary:edit:") for key in effects)
    # Run again (after a crash): nothing more to fetch, nothing queued twice.
    assert tasks.fetch_results(zoom.api, _results_task(session_id, clock)) is None
    assert _effects(sqlite_database) == effects
    assert len(zoom.calls) == 1


def test_answers_for_a_purged_session_are_not_kept(
    sqlite_database: Database, clock: FixedClock
) -> None:
    """Zoom's answers were still awaited when the session was purged: they are not fetched,
    so no name or email comes back into it, and the polls stop waiting."""
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll)
    with sqlite_database.transaction() as s:
        repo.end_session(s, session_id=session_id, ended_by="U1", now=clock.now())
    _close(sqlite_database, clock, poll)
    with sqlite_database.transaction() as s:
        privacy.mark_purged(s, session_ids=[session_id], now=clock.now())
    zoom = StubZoom()
    zoom.answer("GET", PAST_POLLS, {"questions": [_respondent("zo@example.org", "Agree")]})
    tasks = ZoomPollTasks(sqlite_database, clock)
    before = _effects(sqlite_database)
    assert tasks.fetch_results(zoom.api, _results_task(session_id, clock)) is None
    row = _row(sqlite_database, poll)
    assert row.status != store.MERGED
    assert row.answers_added == 0
    with sqlite_database.read() as s:
        assert store.zoom_tally(s, poll_id=poll.id or 0, option_count=2) is None
    assert _effects(sqlite_database) == before  # nothing posted about it
    assert tasks.fetch_results(zoom.api, _results_task(session_id, clock)) is None
    assert zoom.calls == []  # not even asked


def test_a_fetch_reads_the_answers_of_the_instance_it_was_queued_for(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll)
    _close(sqlite_database, clock, poll)
    with sqlite_database.transaction() as s:
        meeting_store.save_meeting(s, session_id=session_id, uuid="next-instance")
    zoom = StubZoom()
    zoom.answer("GET", PAST_POLLS, {"questions": [_respondent("zo@example.org", "Agree")]})
    task = _task(RESULTS, session_id, clock, since=clock.now().isoformat(), uuid="abc+/def==")
    assert ZoomPollTasks(sqlite_database, clock).fetch_results(zoom.api, task) is None
    assert [call[1] for call in zoom.calls] == [PAST_POLLS]  # not the newer instance's
    assert _row(sqlite_database, poll).status == store.MERGED


def _voted_without_check_in(db: Database, clock: FixedClock, anonymous: bool = False) -> Poll:
    """A closed Zoom poll with one Slack vote, by U7, who never checked in (email unknown)."""
    session_id = zoom_session(db, clock)
    poll = _zoom_poll(db, clock, session_id, anonymous=anonymous)
    _created(db, poll)
    with db.transaction() as s:
        poll_store.add_participant(s, session_id=session_id, user_id="U7", now=clock.now())
        poll_store.choose(s, poll_id=poll.id or 0, user_id="U7", option_index=0)
    _close(db, clock, poll)
    return poll


@pytest.mark.parametrize("anonymous", [False, True])
def test_slack_voters_emails_are_looked_up_before_the_answers_merge(
    sqlite_database: Database, clock: FixedClock, anonymous: bool
) -> None:
    poll = _voted_without_check_in(sqlite_database, clock, anonymous)
    session_id = poll.session_id
    zoom = StubZoom()
    zoom.answer("GET", PAST_POLLS, {"questions": [_respondent("U7@example.org", "Disagree")]})
    tasks = ZoomPollTasks(sqlite_database, clock)
    task = _results_task(session_id, clock)
    assert tasks.fetch_results(zoom.api, task) == Again(at=clock.now() + timedelta(seconds=30))
    assert _row(sqlite_database, poll).status == store.CREATED  # not merged yet
    lookup = f"session:{session_id}:zoom:email:U7"
    assert _effects(sqlite_database) == [lookup]
    clock.advance(timedelta(seconds=30))
    assert isinstance(tasks.fetch_results(zoom.api, task), Again)  # Slack has not answered
    assert _effects(sqlite_database) == [lookup]  # asked once
    with sqlite_database.transaction() as s:  # what the users.info sender keeps
        people_store.record_slack_email(s, user_id="U7", email="u7@example.org", now=clock.now())
    assert tasks.fetch_results(zoom.api, task) is None
    row = _row(sqlite_database, poll)
    assert (row.status, row.answers_added, row.duplicates) == (store.MERGED, 0, 1)


def test_answers_merge_anyway_when_slack_never_gives_a_voters_email(
    sqlite_database: Database, clock: FixedClock
) -> None:
    poll = _voted_without_check_in(sqlite_database, clock)
    zoom = StubZoom()
    zoom.answer("GET", PAST_POLLS, {"questions": [_respondent("U7@example.org", "Disagree")]})
    tasks = ZoomPollTasks(sqlite_database, clock)
    task = _results_task(poll.session_id, clock)
    clock.advance(EMAIL_WAIT - timedelta(seconds=1))
    assert isinstance(tasks.fetch_results(zoom.api, task), Again)
    clock.advance(timedelta(seconds=1))
    assert tasks.fetch_results(zoom.api, task) is None
    row = _row(sqlite_database, poll)
    assert (row.status, row.answers_added, row.duplicates) == (store.MERGED, 1, 0)


def test_a_poll_still_open_in_slack_waits_for_its_close(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll)
    zoom = StubZoom()
    outcome = ZoomPollTasks(sqlite_database, clock).fetch_results(
        zoom.api, _results_task(session_id, clock)
    )
    assert outcome == Again(at=poll.closes_at)
    assert zoom.calls == []  # nothing to merge yet


def test_no_answers_two_hours_on_is_told_and_a_recurring_meetings_poll_deleted(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock, meeting_type=8)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll)
    _close(sqlite_database, clock, poll)
    since = clock.now()
    zoom = StubZoom()
    zoom.answer("GET", PAST_POLLS, {"questions": []})
    tasks = ZoomPollTasks(sqlite_database, clock)
    clock.advance(FETCH_FOR - timedelta(seconds=1))
    assert isinstance(tasks.fetch_results(zoom.api, _results_task(session_id, clock, since)), Again)
    clock.advance(timedelta(seconds=1))
    assert tasks.fetch_results(zoom.api, _results_task(session_id, clock, since)) is None
    assert _row(sqlite_database, poll).status == store.NO_ANSWERS
    assert f"poll:{poll.id}:zoom:no_answers" in _effects(sqlite_database)
    with sqlite_database.read() as s:
        kinds = [task.kind for task in s.exec(select(ZoomTask)).all()]
    assert kinds == [DELETE]


def test_zoom_refusing_the_answers_is_told_and_fetching_stops(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll)
    _close(sqlite_database, clock, poll)
    zoom = StubZoom()
    zoom.answer(
        "GET", PAST_POLLS, ZoomForbidden("Only available for Paid account.", status=400, code=200)
    )
    outcome = ZoomPollTasks(sqlite_database, clock).fetch_results(
        zoom.api, _results_task(session_id, clock)
    )
    assert isinstance(outcome, GiveUp)
    row = _row(sqlite_database, poll)
    assert row.status == store.NO_ANSWERS
    assert "Paid account" in (row.problem or "")
    assert f"poll:{poll.id}:zoom:results_refused" in _effects(sqlite_database)


def test_queued_results_for_a_session_with_nothing_on_zoom_finish_at_once(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock)
    with sqlite_database.transaction() as s:
        assert not queue_results(s, session_id, clock.now())
    zoom = StubZoom()
    assert (
        ZoomPollTasks(sqlite_database, clock).fetch_results(
            zoom.api, _results_task(session_id, clock)
        )
        is None
    )
    assert zoom.calls == []


# -- deleting -----------------------------------------------------------------------------------


def test_deleting_a_poll_zoom_no_longer_has_counts_as_done(
    sqlite_database: Database, clock: FixedClock
) -> None:
    session_id = zoom_session(sqlite_database, clock, meeting_type=3)
    poll = _zoom_poll(sqlite_database, clock, session_id)
    _created(sqlite_database, poll, "zp/1")
    zoom = StubZoom()
    zoom.answer("DELETE", f"{POLLS}/zp%2F1", ZoomNotFound("Poll does not exist", status=404))
    tasks = ZoomPollTasks(sqlite_database, clock)
    task = _task(DELETE, session_id, clock, poll_id=poll.id)
    tasks.delete(zoom.api, task)
    assert _row(sqlite_database, poll).deleted_at == clock.now()
    tasks.delete(zoom.api, task)
    assert len(zoom.calls) == 1
