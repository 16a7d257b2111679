"""Showing polls: what the outbox's poll senders read at send time, and what they record.

The senders (`bot.slack.polls`) render each effect from the database when they send it, so a
live tally shows every vote committed by then and a confirmation the voter's current choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.polls.reading import Fixed, PollReading
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
        return self.confirmations([(poll_id, user_id, anonymous_choice)])[0]

    def confirmations(
        self, votes: Sequence[tuple[int, str, Sequence[int] | None]]
    ) -> list[VoteRecorded | None]:
        """`confirmation` for many votes at once, in one read (a burst of voters' replies).

        Args:
            votes: (poll id, voter, the anonymous choice or None) for each reply.
        """
        fixed = {poll_id: self._fixed_of(poll_id) for poll_id in {vote[0] for vote in votes}}
        chosen: dict[int, dict[str, tuple[int, ...]]] = {}
        checked_in: dict[int, set[str]] = {}
        with self.db.read() as db:
            for poll_id, facts in fixed.items():
                if facts is None:
                    continue
                voters = [vote[1] for vote in votes if vote[0] == poll_id]
                named = [vote[1] for vote in votes if vote[0] == poll_id and vote[2] is None]
                chosen[poll_id] = store.choices_of_many(db, poll_id=poll_id, user_ids=named)
                checked_in[poll_id] = store.checked_in_of_many(
                    db, session_id=facts.session_id, user_ids=voters
                )
        replies: list[VoteRecorded | None] = []
        for poll_id, user_id, anonymous_choice in votes:
            facts = fixed[poll_id]
            if facts is None:
                replies.append(None)
                continue
            indexes = chosen[poll_id].get(user_id, ()) if anonymous_choice is None else ()
            replies.append(
                _recorded(
                    facts,
                    poll_id=poll_id,
                    chosen=tuple(anonymous_choice) if anonymous_choice is not None else indexes,
                    checked_in=user_id in checked_in[poll_id],
                )
            )
        return replies

    def set_message(self, poll_id: int, message_ts: str) -> None:
        """Remember where the poll's message is."""
        with self.db.transaction() as db:
            store.set_poll_message(db, poll_id=poll_id, message_ts=message_ts)


def _recorded(
    fixed: Fixed, *, poll_id: int, chosen: Sequence[int], checked_in: bool
) -> VoteRecorded:
    """What a confirmation says, from the poll's fixed facts and the voter's choices."""
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
