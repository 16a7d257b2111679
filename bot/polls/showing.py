"""Showing polls: what the outbox's poll senders read at send time, and what they record.

The senders (`bot.slack.polls`) render each effect from the database when they send it, so a
live tally shows every vote committed by then and a confirmation the voter's current choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.polls.reading import PollReading
from bot.polls.results import VoteRecorded
from storage import polls as store


class PollShowing(PollReading):
    """Reads for the senders and the facts they learn (a part of `PollService`)."""

    def confirmation(
        self, *, poll_id: int, user_id: str, anonymous_choice: Sequence[int] | None = None
    ) -> VoteRecorded | None:
        """What a voter's confirmation says now: their current choices, and whether they have
        checked in; None if the poll is gone.

        Args:
            poll_id: the poll voted in.
            user_id: the voter.
            anonymous_choice: an anonymous vote's options, which only its confirmation holds.
        """
        fixed = self._fixed_of(poll_id)
        if fixed is None:
            return None
        with self.db.read() as db:
            if anonymous_choice is None:
                chosen = store.choices_of(db, poll_id=poll_id, user_id=user_id)
            else:
                chosen = tuple(anonymous_choice)
            checked_in = store.has_checked_in(db, session_id=fixed.session_id, user_id=user_id)
        return VoteRecorded(
            poll_id=poll_id,
            session_id=fixed.session_id,
            channel_id=fixed.channel_id,
            chosen=tuple(fixed.options[i] for i in chosen if 0 <= i < len(fixed.options)),
            multi=fixed.multi,
            anonymous=fixed.anonymous,
            closes_at=fixed.closes_at,
            checked_in=checked_in,
        )

    def set_message(self, poll_id: int, message_ts: str) -> None:
        """Remember where the poll's message is."""
        with self.db.transaction() as db:
            store.set_poll_message(db, poll_id=poll_id, message_ts=message_ts)
