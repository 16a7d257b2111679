"""Reading polls: their state and tally, and who may see or control what (PollService's base)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.polls.results import (
    NOT_A_POLL_BUTTON,
    UNKNOWN_POLL,
    AlreadyVoted,
    PollClosed,
    PollState,
)
from bot.results import Refusal
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from storage import polls as store
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession
from storage.polls import Poll
from storage.zoom import polls as zoom_store


@dataclass(frozen=True)
class Fixed:
    """What never changes about a poll once it is launched, so it is read once per process."""

    session_id: int
    channel_id: str
    multi: bool
    anonymous: bool
    closes_at: datetime
    options: tuple[str, ...]


def fixed_of(poll: Poll, options: tuple[str, ...]) -> Fixed:
    """A poll's fixed facts."""
    return Fixed(
        poll.session_id, poll.channel_id, poll.multi, poll.anonymous, poll.closes_at, options
    )


class PollReading:
    """The reads every part of the poll service shares; `PollService` sets the attributes."""

    db: Database
    clock: Clock
    sessions: SessionService
    deadlines: Deadlines
    min_group: int
    _fixed: dict[int, Fixed]

    def may_control(self, *, channel_id: str, user_id: str) -> ListeningSession | Refusal:
        """The channel's session if `user_id` may launch and close polls there."""
        return self.sessions.controlled_session(channel_id=channel_id, user_id=user_id)

    def _fixed_of(self, poll_id: int) -> Fixed | None:
        cached = self._fixed.get(poll_id)
        if cached is None:
            with self.db.read() as db:
                poll = store.get_poll(db, poll_id=poll_id)
                if poll is None:
                    return None
                cached = fixed_of(poll, tuple(store.poll_options(db, poll_id=poll_id)))
            self._fixed[poll_id] = cached
        return cached

    def state(self, poll_id: int) -> PollState | None:
        """A poll with its options and current tally."""
        with self.db.read() as db:
            poll = store.get_poll(db, poll_id=poll_id)
            if poll is None:
                return None
            tally = store.tally(db, poll=poll)
            zoom = zoom_store.zoom_tally(db, poll_id=poll_id, option_count=poll.option_count)
        fixed = self._fixed_of(poll_id)
        if fixed is None:  # deleted since the read above
            return None
        return PollState(poll, fixed.options, tally, zoom, self.min_group)

    def open_states(self, session: ListeningSession) -> list[PollState]:
        """The session's open polls with their tallies (for `/session status`)."""
        with self.db.read() as db:
            ids = [poll.id for poll in store.open_polls(db, session_id=session.id)]
        return [state for i in ids if i is not None and (state := self.state(i)) is not None]

    def results(self, *, poll_id: int, user_id: str) -> PollState | Refusal:
        """Current results for a facilitator, even while they are hidden from everyone else."""
        state = self.state(poll_id)
        if state is None:
            return Refusal(UNKNOWN_POLL)
        with self.db.read() as db:
            session = repo.get_session(db, session_id=state.poll.session_id)
        if session is None or not self.sessions.is_facilitator(user_id, session):
            return Refusal(
                "Only the session's facilitators can see the results before the poll closes."
            )
        return state

    def ballot(
        self, *, poll_id: int, user_id: str
    ) -> PollState | PollClosed | AlreadyVoted | Refusal:
        """The poll to show in the anonymous ballot form, unless this person cannot vote."""
        state = self.state(poll_id)
        if state is None:
            return Refusal(UNKNOWN_POLL)
        if not state.poll.anonymous or not state.poll.multi:
            return Refusal(NOT_A_POLL_BUTTON)
        if state.closed or self.clock.now() >= state.poll.closes_at:
            return PollClosed(state.poll.closed_at or state.poll.closes_at)
        with self.db.read() as db:
            if store.has_voted(db, poll_id=poll_id, user_id=user_id):
                return AlreadyVoted()
        return state
