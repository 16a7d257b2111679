"""Closing polls: by `/poll close`, at the deadline, at the session's end, and after a restart.

Every close is a compare-and-set that queues the poll's final results in the same transaction,
so a poll is announced once however many closers race, and a close is never left unannounced.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session

from bot.outbox import queue
from bot.polls.effects import (
    POLL_LIVE,
    POLL_VOTED_ANONYMOUS,
    USER_TARGET_PREFIX,
    live_keys,
    poll_final,
    poll_live,
    poll_target,
)
from bot.polls.jobs import EARLY_RETRY, FORGET_HISTORY_JOB_ID, FORGET_HISTORY_RETRY, close_job_id
from bot.polls.results import NOTHING_OPEN, ClosedNow
from bot.polls.showing import PollShowing
from bot.results import Duplicate, Refusal
from bot.sessions.effects import session_target
from storage import outbox
from storage import polls as store
from storage import repository as repo
from storage.models import ListeningSession
from storage.polls import Poll

logger = logging.getLogger(__name__)

# The end of a session is announced after its polls' results, as people expect to read them in
# that order; if Slack is too slow for that, the end is announced anyway.


class PollClosing(PollShowing):
    """Every way a poll closes, each queuing the results once (a part of `PollService`)."""

    def _close_in(
        self,
        db: Session,
        poll: Poll,
        *,
        reason: str,
        closed_by: str | None,
        at: datetime,
        results_target: str | None = None,
    ) -> bool:
        """Compare-and-set close with its final results queued; True for the one that closed."""
        assert poll.id is not None
        won = store.close_poll(db, poll_id=poll.id, now=at, reason=reason, closed_by=closed_by)
        if won:
            now = self.clock.now()
            # A tally still waiting would only hold up the results (it would show nothing:
            # the poll is closed when it is sent).
            outbox.retire(db, key_prefix=live_keys(poll.id), now=now, reason="the poll closed")
            queue(db, poll_final(poll.id, target=results_target), now=now)
        return won

    def _close(
        self,
        poll: Poll,
        *,
        reason: str,
        closed_by: str | None,
        at: datetime,
        results_target: str | None = None,
    ) -> bool:
        with self.db.transaction() as db:
            won = self._close_in(
                db, poll, reason=reason, closed_by=closed_by, at=at, results_target=results_target
            )
        if won:
            self._after_close(poll)
        return won

    def _after_close(self, poll: Poll) -> None:
        """No more deadline job; an anonymous poll's ballots leave no trace."""
        assert poll.id is not None
        self.deadlines.cancel(close_job_id(poll.id))
        if poll.anonymous:
            self.forget_anonymous_history_soon()

    def forget_anonymous_history_soon(self) -> None:
        """Run `forget_anonymous_history` as a job: it may wait a moment for other connections,
        and neither the facilitator's command nor the sender should wait with it."""
        # The scheduler keeps wall-clock time: now by it is at once, whatever `self.clock` says.
        self.deadlines.schedule(
            FORGET_HISTORY_JOB_ID, self.forget_anonymous_history, datetime.now(UTC)
        )

    def forget_anonymous_history(self) -> None:
        """Drop the database's history of anonymous votes, or try again soon if it must wait.

        It waits while an anonymous vote's confirmation is unsent: that row names the voter
        and the choices until it is sent and deleted, and its history must go with the rest.
        """
        try:
            with self.db.read() as db:
                unsent = outbox.unsent_for(
                    db, kind=POLL_VOTED_ANONYMOUS, target_prefix=USER_TARGET_PREFIX
                )
            if not unsent and store.forget_anonymous_history(self.db):
                self.deadlines.cancel(FORGET_HISTORY_JOB_ID)  # whatever was still to do is done
                return
            self.deadlines.schedule(
                FORGET_HISTORY_JOB_ID,
                self.forget_anonymous_history,
                self.clock.now() + FORGET_HISTORY_RETRY,
            )
        except Exception:
            logger.exception("could not drop the history of anonymous ballots; the next start will")

    def close_newest(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> ClosedNow | Refusal | Duplicate:
        """`/poll close`: close the channel's newest open poll now (facilitators only).

        Who may close, which poll, the close and its results are one transaction.
        """
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                session = self.sessions.controlled_session_in(
                    db, channel_id=channel_id, user_id=user_id
                )
                if isinstance(session, Refusal):
                    return session
                poll = store.newest_open_poll(db, channel_id=channel_id)
                if poll is None:
                    return Refusal(NOTHING_OPEN)
                assert poll.id is not None
                repo.record_delivery(db, key=delivery_key, now=now)
                overdue = now >= poll.closes_at
                self._close_in(
                    db,
                    poll,
                    at=poll.closes_at if overdue else now,
                    reason=store.CLOSED_BY_DEADLINE if overdue else store.CLOSED_BY_COMMAND,
                    closed_by=None if overdue else user_id,
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        self._after_close(poll)
        return ClosedNow(poll.id)

    def close_at_deadline(self, poll_id: int) -> None:
        """Close a poll whose deadline has passed (the job); its results are queued once."""
        with self.db.read() as db:
            poll = store.get_poll(db, poll_id=poll_id)
        if poll is None or poll.closed_at is not None:
            return
        if self.clock.now() < poll.closes_at:
            # Fired early by another clock's reckoning (the scheduler's wait may end a few
            # milliseconds before the wall clock gets there): the stored deadline decides, and
            # the job tries again just after it rather than at once, over and over.
            again = poll.closes_at + EARLY_RETRY
            self.deadlines.schedule(close_job_id(poll_id), self.close_at_deadline, again, poll_id)
            return
        self._close(poll, reason=store.CLOSED_BY_DEADLINE, closed_by=None, at=poll.closes_at)

    def close_for_session(self, session: ListeningSession) -> None:
        """Session-end hook: close the session's open polls. Their results are queued on the
        session's target, so they are posted before the end of the session is announced."""
        with self.db.read() as db:
            polls = store.open_polls(db, session_id=session.id)
        at = session.ended_at or self.clock.now()
        for poll in polls:
            assert poll.id is not None
            closed_at = min(at, poll.closes_at)
            reason = (
                store.CLOSED_BY_DEADLINE if at >= poll.closes_at else store.CLOSED_BY_SESSION_END
            )
            self._close(
                poll,
                reason=reason,
                closed_by=session.ended_by,
                at=closed_at,
                results_target=session_target(session.id or 0),
            )

    def mark_announced(self, poll_id: int) -> None:
        """Record that a closed poll's results and chart are posted (by its final effect)."""
        with self.db.transaction() as db:
            store.mark_announced(db, poll_id=poll_id, now=self.clock.now())
            poll = store.get_poll(db, poll_id=poll_id)
        if poll is not None and poll.anonymous:
            # Its confirmations normally went out before the results: if the try at the close
            # had to wait for them, the history can go now.
            self.forget_anonymous_history_soon()

    def close_overdue(self) -> list[int]:
        """Close every poll past its deadline or in an ended session, queuing its results.

        Closed polls whose results were never posted get them queued too (the key makes that
        harmless when they already are). Returns the ids of the polls this call closed.
        """
        now = self.clock.now()
        with self.db.read() as db:
            overdue = store.overdue_polls(db, now=now)
        closed: list[int] = []
        for poll, reason in overdue:
            assert poll.id is not None
            at = poll.closes_at if reason == store.CLOSED_BY_DEADLINE else now
            if self._close(poll, reason=reason, closed_by=None, at=at):
                closed.append(poll.id)
        with self.db.transaction() as db:
            for poll in store.unannounced_polls(db):
                if poll.id is not None:
                    queue(db, poll_final(poll.id), now=now)
        return closed

    def recover(self) -> None:
        """At start: close what became overdue while down, keep every other deadline, show
        every open poll's tally (votes committed just before a stop), tidy anonymous history."""
        self.close_overdue()
        now = self.clock.now()
        with self.db.transaction() as db:
            still_open = store.open_polls(db)
            for poll in still_open:
                assert poll.id is not None
                if not outbox.has_unsent(db, kind=POLL_LIVE, target=poll_target(poll.id)):
                    queue(db, poll_live(poll.id), now=now)
        for poll in still_open:
            assert poll.id is not None
            self.deadlines.schedule(
                close_job_id(poll.id), self.close_at_deadline, poll.closes_at, poll.id
            )
        # The bot may have stopped between closing an anonymous poll and tidying up after it.
        self.forget_anonymous_history()
