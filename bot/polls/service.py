"""The poll service: launching polls, and the one object that votes, closes and shows them.

The service decides *what* happens and *when*; what it owes Slack is queued in the outbox with
the change it follows from (`bot.polls.effects`) and sent by `bot.slack.polls`. Its parts live
next to it by role: `reading`, `voting`, `closing`, `showing`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.clock import Clock
from bot.concurrency import BatchWriter
from bot.outbox import queue
from bot.polls.closing import PollClosing
from bot.polls.effects import poll_keys, poll_post
from bot.polls.jobs import close_job_id
from bot.polls.reading import fixed_of
from bot.polls.requests import PollRequest
from bot.polls.results import Launched, PollState
from bot.polls.voting import PollVoting
from bot.results import Duplicate, Refusal, Within
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from storage import outbox
from storage import polls as store
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession
from storage.polls import Tally

# Another feature's rules for a launch, checked in its transaction before anything is written
# (Zoom: can the meeting carry this poll?): a Refusal stops the launch; a `Within` is run with
# the new poll's id once its message is queued (what it queues comes after the message).
LaunchCheck = Callable[[Session, ListeningSession, PollRequest], Refusal | Within | None]


class PollService(PollVoting, PollClosing):
    """Poll rules on top of the repository: who may launch, vote, close, and what gets shown."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        sessions: SessionService,
        deadlines: Deadlines,
        *,
        min_group: int = 1,
    ) -> None:
        self.db = db
        self.min_group = min_group  # REPORT_MIN_GROUP: see `PollState.sources_hidden`
        self.clock = clock
        self.sessions = sessions
        self.deadlines = deadlines
        self._fixed = {}
        self.writer = BatchWriter(db, self._apply_vote)
        self.launch_checks: list[LaunchCheck] = []

    def launch(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: PollRequest,
        delivery_key: str | None,
        response_url: str | None = None,
        within: Within | None = None,
    ) -> Launched | Refusal | Duplicate:
        """Create a poll in the channel's session, queue its message and schedule its close.

        Who may launch, the poll and its message are one transaction.

        Args:
            channel_id: where `/poll` was used.
            user_id: who used it.
            request: the poll asked for.
            delivery_key: the same for Slack's redeliveries, so a retry launches nothing.
            response_url: the command's reply address, where a failure to post is told (None
                from the form: the facilitator gets a direct message).
            within: called with the transaction and the new poll's id before the commit (a
                run sheet records its step); whatever it raises undoes the launch.
        """
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                session = self.sessions.controlled_session_in(
                    db, channel_id=channel_id, user_id=user_id
                )
                if isinstance(session, Refusal):
                    return session
                assert session.id is not None
                then: list[Within] = []
                for check in self.launch_checks:
                    checked = check(db, session, request)
                    if isinstance(checked, Refusal):
                        return checked
                    if checked is not None:
                        then.append(checked)
                repo.record_delivery(db, key=delivery_key, now=now)
                poll = store.create_poll(
                    db,
                    session_id=session.id,
                    channel_id=channel_id,
                    key=request.key,
                    question=request.question,
                    options=request.options,
                    multi=request.multi,
                    anonymous=request.anonymous,
                    hide_results=request.hide_results,
                    created_by=user_id,
                    now=now,
                    closes_at=now + request.duration,
                )
                assert poll.id is not None
                if within is not None:
                    within(db, poll.id)
                queue(
                    db,
                    poll_post(poll.id, launched_by=user_id, response_url=response_url),
                    now=now,
                )
                for step in then:
                    step(db, poll.id)
                # Before the commit, so that a refused post (which cancels it) cannot come
                # first. A job left by a rolled-back launch finds no poll, or a later one
                # with this id and its own deadline, and closes nothing.
                self.deadlines.schedule(
                    close_job_id(poll.id), self.close_at_deadline, poll.closes_at, poll.id
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        self._fixed[poll.id] = fixed_of(poll, request.options)
        return Launched(PollState(poll, request.options, Tally((0,) * len(request.options), 0)))

    def discard(self, poll_id: int) -> None:
        """Delete a poll whose message could not be posted, and what it still owed."""
        self.deadlines.cancel(close_job_id(poll_id))
        with self.db.transaction() as db:
            store.delete_poll(db, poll_id=poll_id)
            # SQLite may give the next poll this id: its effects must not find their keys taken.
            outbox.retire(
                db,
                key_prefix=poll_keys(poll_id),
                now=self.clock.now(),
                reason="the poll was not launched",
            )
        self._fixed.pop(poll_id, None)
