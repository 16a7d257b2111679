"""`collect` with `SessionFilter.as_of` (a posted summary rebuilt as it was built): the rows'
own times decide; without it everything is as it is now (the report and normal summaries)."""

from __future__ import annotations

from datetime import timedelta

from bot.report.collect import collect
from storage import polls as poll_store
from storage import privacy
from storage.db import Database
from storage.polls import Poll, PollVote, PollVoter
from storage.privacy import StoredBreakdown
from storage.privacy.tables import ROLE
from storage.report import SessionFilter
from storage.zoom import polls as zoom_store
from storage.zoom.polls import AnswerRow
from tests.storage.sessions import T0, start_session

AS_OF = T0 + timedelta(minutes=30)


def _poll(db: Database, session_id: int, question: str, *, hide: bool = False) -> Poll:
    with db.transaction() as s:
        poll = poll_store.create_poll(
            s,
            session_id=session_id,
            channel_id="C1",
            key=question.lower(),
            question=question,
            options=["Yes", "No"],
            multi=False,
            anonymous=False,
            hide_results=hide,
            created_by="U1",
            now=T0,
            closes_at=T0 + timedelta(hours=2),
        )
        assert poll.id is not None
        s.add_all(PollVoter(poll_id=poll.id, user_id=u) for u in ("U1", "U2"))
        s.flush()
        s.add_all(PollVote(poll_id=poll.id, user_id=u, option_index=0) for u in ("U1", "U2"))
        return poll


def test_zoom_answers_merged_later_and_a_poll_open_then_are_left_out(database: Database) -> None:
    session_id = start_session(database)
    closed = _poll(database, session_id, "Closed before")
    hidden = _poll(database, session_id, "Hidden then", hide=True)
    with database.transaction() as s:
        poll_store.close_poll(
            s,
            poll_id=closed.id or 0,
            now=T0 + timedelta(minutes=10),
            reason="command",
            closed_by="U1",
        )
        poll_store.close_poll(
            s,
            poll_id=hidden.id or 0,
            now=AS_OF + timedelta(minutes=10),
            reason="command",
            closed_by="U1",
        )
        zoom_store.add_zoom_poll(
            s, poll_id=closed.id or 0, session_id=session_id, meeting_id="8123", now=T0
        )
        assert zoom_store.set_created(s, poll_id=closed.id or 0, zoom_poll_id="zp1")
        assert zoom_store.save_answers(
            s,
            poll_id=closed.id or 0,
            rows=[AnswerRow("zoom:a", 1)],
            added=1,
            duplicates=0,
            now=AS_OF + timedelta(hours=1),  # merged after the meeting
        )
    now = collect(database, SessionFilter(session_ids=(session_id,)))
    then = collect(database, SessionFilter(session_ids=(session_id,), as_of=AS_OF))

    assert [(p.question, p.hidden, p.open_then) for p in now.polls] == [
        ("Closed before", False, False),
        ("Hidden then", False, False),
    ]
    assert len(now.votes) == 4
    assert len(now.zoom_votes) == 1
    # Then: the closed poll's votes as they were (none can come after its close), no Zoom
    # answers yet; the poll open then hidden as it was, and none of its votes read.
    assert [(p.question, p.hidden, p.open_then) for p in then.polls] == [
        ("Closed before", False, False),
        ("Hidden then", True, True),
    ]
    assert {v.poll_id for v in then.votes} == {closed.id}
    assert then.zoom_votes == []
    # Before the polls were asked: none.
    assert (
        collect(
            database, SessionFilter(session_ids=(session_id,), as_of=T0 - timedelta(seconds=1))
        ).polls
        == []
    )


def test_a_purged_sessions_stored_breakdowns_as_of_then_are_its_closed_polls_only(
    database: Database,
) -> None:
    """A purge stored the session's figures as they were at its end: as of an earlier time,
    only a poll closed by then is as stored (check-ins by role are not known as of then)."""
    session_id = start_session(database)
    closed = _poll(database, session_id, "Closed before")
    later = _poll(database, session_id, "Closed later")
    with database.transaction() as s:
        for poll, at in ((closed, T0 + timedelta(minutes=10)), (later, AS_OF + timedelta(1))):
            poll_store.close_poll(s, poll_id=poll.id or 0, now=at, reason="command", closed_by="U1")
        privacy.save_breakdowns(
            s,
            rows=[
                StoredBreakdown(session_id, closed.id, "slack", ROLE, "Member", 2, (2, 0)),
                StoredBreakdown(session_id, later.id, "slack", ROLE, "Member", 2, (2, 0)),
                StoredBreakdown(session_id, None, "", ROLE, "Member", 9),
            ],
        )
    now = collect(database, SessionFilter(session_ids=(session_id,)))
    then = collect(database, SessionFilter(session_ids=(session_id,), as_of=AS_OF))
    assert sorted((row.poll_id or 0) for row in now.breakdowns) == sorted(
        [0, closed.id or 0, later.id or 0]
    )
    assert [row.poll_id for row in then.breakdowns] == [closed.id]
