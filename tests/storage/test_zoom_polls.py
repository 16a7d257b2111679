"""Zoom poll repository functions on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage import polls as poll_store
from storage.db import Database
from storage.models import Participant
from storage.polls import Poll
from storage.zoom import people
from storage.zoom import polls as store
from storage.zoom.people import ZoomPerson
from storage.zoom.polls import AnswerRow, ZoomTally
from tests.storage.sessions import T0, start_session


def _poll(db: Database, session_id: int, *, anonymous: bool = False) -> Poll:
    with db.transaction() as s:
        poll = poll_store.create_poll(
            s,
            session_id=session_id,
            channel_id="C1",
            key="strike",
            question="Back the strike?",
            options=["Yes", "No", "Not sure"],
            multi=False,
            anonymous=anonymous,
            hide_results=False,
            created_by="U1",
            now=T0,
            closes_at=T0 + timedelta(minutes=2),
        )
        store.add_zoom_poll(
            s, poll_id=poll.id or 0, session_id=session_id, meeting_id="81234567890", now=T0
        )
        return poll


def _created(db: Database, poll: Poll, zoom_poll_id: str = "zp1") -> None:
    with db.transaction() as s:
        assert store.set_created(s, poll_id=poll.id or 0, zoom_poll_id=zoom_poll_id)


def test_a_poll_is_created_in_zoom_once(database: Database) -> None:
    poll = _poll(database, start_session(database))
    _created(database, poll)
    with database.transaction() as s:
        assert not store.set_created(s, poll_id=poll.id or 0, zoom_poll_id="again")
        row = store.zoom_poll_of(s, poll_id=poll.id or 0)
    assert row is not None
    assert (row.status, row.zoom_poll_id) == (store.CREATED, "zp1")


def test_answers_are_stored_once_and_tallied_with_the_unmatched_apart(database: Database) -> None:
    poll = _poll(database, start_session(database))
    poll_id = poll.id or 0
    _created(database, poll)
    rows = [
        AnswerRow("zoom:a", 0),
        AnswerRow("zoom:b", 0),
        AnswerRow("zoom:c", 2),
        AnswerRow("zoom:d", None, "Maybe"),
        AnswerRow("zoom:e", None, "Maybe"),
        AnswerRow("zoom:f", None, "Later"),
    ]
    with database.transaction() as s:
        assert store.zoom_tally(s, poll_id=poll_id, option_count=3) is None  # not merged yet
        assert store.save_answers(s, poll_id=poll_id, rows=rows, added=3, duplicates=1, now=T0)
        # A second run (the task after a crash) changes nothing.
        assert not store.save_answers(
            s, poll_id=poll_id, rows=rows[:1], added=1, duplicates=0, now=T0
        )
    with database.read() as s:
        tally = store.zoom_tally(s, poll_id=poll_id, option_count=3)
        named = store.named_zoom_answers(s, poll_ids=[poll_id])
    assert tally == ZoomTally(
        counts=(2, 0, 1), voters=3, duplicates=1, unmatched=(("Maybe", 2), ("Later", 1))
    )
    assert named == [(poll_id, "zoom:a", 0), (poll_id, "zoom:b", 0), (poll_id, "zoom:c", 2)]


def test_anonymous_counts_are_summed_per_option(database: Database) -> None:
    poll = _poll(database, start_session(database), anonymous=True)
    poll_id = poll.id or 0
    _created(database, poll)
    with database.transaction() as s:
        store.save_answers(
            s,
            poll_id=poll_id,
            rows=[AnswerRow(None, 1, None, 4), AnswerRow(None, 0, None, 2)],
            added=6,
            duplicates=0,
            now=T0,
        )
    with database.read() as s:
        tallies = store.zoom_tallies(s, poll_ids=[poll_id], option_counts={poll_id: 3})
        assert store.named_zoom_answers(s, poll_ids=[poll_id]) == []
    assert tallies[poll_id].counts == (2, 4, 0)
    assert tallies[poll_id].voters == 6


def test_a_poll_given_up_keeps_no_answers_and_cannot_be_merged_later(database: Database) -> None:
    poll = _poll(database, start_session(database))
    poll_id = poll.id or 0
    _created(database, poll)
    with database.transaction() as s:
        assert store.give_up_answers(s, poll_id=poll_id, now=T0)
        assert not store.give_up_answers(s, poll_id=poll_id, now=T0)
        assert not store.save_answers(s, poll_id=poll_id, rows=[], added=0, duplicates=0, now=T0)
        store.mark_deleted(s, poll_id=poll_id, now=T0)
        row = store.zoom_poll_of(s, poll_id=poll_id)
    assert row is not None
    assert row.status == store.NO_ANSWERS
    assert row.deleted_at == T0


def test_deleting_a_poll_removes_its_zoom_side(database: Database) -> None:
    poll = _poll(database, start_session(database))
    poll_id = poll.id or 0
    _created(database, poll)
    with database.transaction() as s:
        store.save_answers(
            s, poll_id=poll_id, rows=[AnswerRow("zoom:a", 0)], added=1, duplicates=0, now=T0
        )
    with database.transaction() as s:
        poll_store.delete_poll(s, poll_id=poll_id)
    with database.read() as s:
        assert store.zoom_poll_of(s, poll_id=poll_id) is None
        assert store.named_zoom_answers(s, poll_ids=[poll_id]) == []


def test_voters_and_people_are_found_by_email_whatever_its_case(database: Database) -> None:
    session_id = start_session(database)
    other_session = start_session(database, channel="C2")
    poll = _poll(database, session_id)
    poll_id = poll.id or 0
    with database.transaction() as s:
        # As the users.info sender keeps them (normalized on the way in).
        for user_id, email in (("U1", " One@Example.org"), ("U2", "two@example.org")):
            people.record_slack_email(s, user_id=user_id, email=email, now=T0)
        people.record_slack_email(s, user_id="U3", email=None, now=T0)
        for user_id in ("U1", "U3"):
            poll_store.add_participant(s, session_id=session_id, user_id=user_id, now=T0)
            poll_store.choose(s, poll_id=poll_id, user_id=user_id, option_index=0)
        s.add(Participant(session_id=session_id, user_id="U2", updated_at=T0))
        s.add(
            ZoomPerson(
                session_id=session_id,
                identity="email:zo@example.org",
                user_id="zoom:0123",
                email=people.normalize_email("ZO@example.org"),
                updated_at=T0,
            )
        )
        s.add(
            ZoomPerson(
                session_id=other_session,
                identity="email:elsewhere@example.org",
                user_id="zoom:9999",
                email="elsewhere@example.org",
                updated_at=T0,
            )
        )
    emails = ["ONE@example.org ", "two@example.org", "ZO@example.org", "elsewhere@example.org"]
    with database.read() as s:
        assert store.poll_voters(s, poll_id=poll_id) == {"U1", "U3"}
        assert store.voters_by_email(s, poll_id=poll_id) == {"one@example.org": "U1"}
        found = people.users_for_emails(s, session_id=session_id, emails=[*emails, "", " "])
        # The same rule as the presence helper's one-at-a-time look-up.
        one_by_one = {
            people.normalize_email(e): people.user_for_email(s, session_id=session_id, email=e)
            for e in emails
        }
    assert found == {
        "one@example.org": "U1",
        "two@example.org": "U2",
        "zo@example.org": "zoom:0123",
    }
    assert found == {email: user for email, user in one_by_one.items() if user is not None}


def test_a_sessions_zoom_polls_by_state(database: Database) -> None:
    session_id = start_session(database)
    first, second = _poll(database, session_id), _poll(database, session_id)
    _created(database, second)
    with database.transaction() as s:
        store.set_problem(s, poll_id=first.id or 0, problem="x" * 400, status=store.REFUSED)
    with database.read() as s:
        created = store.zoom_polls_of(s, session_id=session_id, statuses=(store.CREATED,))
        every = store.zoom_polls_of(s, session_id=session_id)
    assert [row.poll_id for row in created] == [second.id]
    assert [row.status for row in every] == [store.REFUSED, store.CREATED]
    assert len(every[0].problem or "") == 300
