"""Voting: a click or an anonymous ballot, checked and written by group commit.

The vote's effects (the voter's confirmation, a live tally when none is waiting) are queued in
the same transaction as the vote, so a committed vote is always confirmed and shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.concurrency import BatchWriter
from bot.outbox import queue
from bot.polls.effects import POLL_LIVE, poll_live, poll_target, vote_confirmation
from bot.polls.reading import PollReading
from bot.polls.results import (
    NO_CHOICE,
    NOT_A_POLL_BUTTON,
    UNKNOWN_POLL,
    AlreadyVoted,
    Click,
    Counted,
    PollClosed,
    VoteOutcome,
    VoteRecorded,
)
from bot.results import Duplicate, Refusal
from storage import outbox
from storage import polls as store

# Polls whose live tally this transaction has already seen queued (one check per batch).
_LIVE_QUEUED = "polls_live_queued"


class PollVoting(PollReading):
    """Recording votes (a part of `PollService`)."""

    writer: BatchWriter[Click, Counted | VoteOutcome]

    def vote(
        self,
        *,
        poll_id: int,
        option_indexes: Sequence[int],
        user_id: str,
        channel_id: str | None,
        delivery_key: str | None,
        response_url: str | None = None,
    ) -> VoteOutcome:
        """Record a click (or an anonymous ballot), committed before this returns.

        Args:
            poll_id: the poll clicked.
            option_indexes: the option clicked; several only from the anonymous ballot form.
            user_id: who clicked.
            channel_id: where the button was (None from a form); a button from elsewhere is
                refused.
            delivery_key: the same for Slack's redeliveries, so a retry changes nothing.
            response_url: the click's own reply address, where its confirmation goes.
        """
        if not option_indexes:
            return Refusal(NO_CHOICE)
        click = Click(
            poll_id, tuple(option_indexes), user_id, channel_id, delivery_key, response_url
        )
        outcome = self.writer.write(click)
        if not isinstance(outcome, Counted):
            return outcome
        target = outcome.target
        fixed = self._fixed_of(poll_id)
        options = fixed.options if fixed is not None else ()
        return VoteRecorded(
            poll_id=poll_id,
            session_id=target.session_id,
            channel_id=target.channel_id,
            chosen=tuple(options[i] for i in outcome.chosen if i < len(options)),
            multi=target.multi,
            anonymous=target.anonymous,
            closes_at=target.closes_at,
            checked_in=bool(target.participant),
        )

    def _apply_vote(self, db: Session, click: Click) -> Counted | VoteOutcome:
        """One click's effect, inside the writer's transaction."""
        now = self.clock.now()
        target = store.vote_target(db, poll_id=click.poll_id, user_id=click.user_id)
        if target is None:
            return Refusal(UNKNOWN_POLL)
        indexes = click.option_indexes
        valid = all(0 <= i < target.option_count for i in indexes)
        if not valid or click.channel_id not in (None, target.channel_id):
            return Refusal(NOT_A_POLL_BUTTON)
        if len(indexes) > 1 and not (target.anonymous and target.multi):
            return Refusal(NOT_A_POLL_BUTTON)
        if target.closed_at is not None or now >= target.closes_at:
            # The stored deadline decides, whether or not the close job has run.
            return PollClosed(target.closed_at or target.closes_at)
        # Recorded with the vote, so a redelivery finds it and changes nothing however the
        # two race.
        if not store.claim_delivery(db, key=click.delivery_key, now=now):
            return Duplicate()
        if target.participant is None:
            store.add_participant(db, session_id=target.session_id, user_id=click.user_id, now=now)
        poll_id, user_id = click.poll_id, click.user_id
        if target.anonymous:
            chosen = tuple(sorted(set(indexes)))
            if not store.cast_anonymous(
                db, poll_id=poll_id, user_id=user_id, option_indexes=chosen
            ):
                return AlreadyVoted()
        elif target.multi:
            chosen = store.toggle(db, poll_id=poll_id, user_id=user_id, option_index=indexes[0])
        else:
            chosen = store.choose(db, poll_id=poll_id, user_id=user_id, option_index=indexes[0])
        queue(
            db,
            vote_confirmation(
                poll_id=poll_id,
                user_id=user_id,
                delivery_key=click.delivery_key,
                anonymous_choice=chosen if target.anonymous else None,
                response_url=click.response_url,
            ),
            now=now,
        )
        self._queue_live(db, poll_id, now=now)
        return Counted(target, chosen)

    def _queue_live(self, db: Session, poll_id: int, *, now: datetime) -> None:
        """A live tally, unless one is already waiting: rendered when sent, it shows this vote.

        A tally already taken by the sender is marked sent, so a vote after that queues a new
        one, and no vote is left off the message for long.
        """
        seen: set[int] = db.info.setdefault(_LIVE_QUEUED, set())
        if poll_id in seen:
            return
        seen.add(poll_id)
        if not outbox.has_unsent(db, kind=POLL_LIVE, target=poll_target(poll_id)):
            queue(db, poll_live(poll_id), now=now)
