"""Ending a session: the end itself, then closing what is open, then the end's own posts."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bot.results import Duplicate, Refusal
from bot.sessions.results import SessionView
from bot.sessions.service import EndReport, SessionService
from bot.sessions.steps import run_each
from storage.models import ListeningSession

# Close what is still open in an ended session (polls, breakout rounds); committed on its own.
EndHook = Callable[[ListeningSession], object]


class SessionEnding:
    """Ends a session; then the other features close what they have open in it, and "has ended"
    and the reports on the session (the summary) are queued, so they come after all that.

    Built once for the process; features add their hooks to the lists at start-up.

    Args:
        sessions: the session rules.
        on_session_end: close what is still open (polls, breakout rounds), in order.
        after_session_end: queue a report on the ended session (the summary) in the transaction
            that queues "has ended".
    """

    def __init__(
        self,
        sessions: SessionService,
        *,
        on_session_end: list[EndHook] | None = None,
        after_session_end: list[EndReport] | None = None,
    ) -> None:
        self.sessions = sessions
        self.on_session_end: list[EndHook] = on_session_end if on_session_end is not None else []
        self.after_session_end: list[EndReport] = (
            after_session_end if after_session_end is not None else []
        )

    def end(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> SessionView | Refusal | Duplicate:
        """End the channel's session (facilitators only); committed, with the edit of its
        message queued, before the caller is told."""
        return self.sessions.end(channel_id=channel_id, user_id=user_id, delivery_key=delivery_key)

    def follow_up(self, ended: SessionView) -> None:
        """Everything after the end is committed (and acknowledged)."""
        session = ended.session
        assert session.id is not None
        # The features' hooks commit (and queue) on their own, so "has ended" and the summary,
        # queued after them, show the polls just closed and the round just ended. One failing
        # hook must not stop the others, nor the end's own posts.
        run_each(
            [partial(hook, session) for hook in self.on_session_end],
            what=f"end of session {session.id}",
        )
        self.sessions.announce_end(session.id, reports=self.after_session_end)

    def end_abandoned(self, session_id: int) -> bool:
        """End a session nobody ended, as the bot, and close what is open in it as `/session
        end` would (then "has ended" and the summary); False if it had ended already."""
        ended = self.sessions.end_abandoned(session_id)
        if ended is None:
            return False
        self.follow_up(ended)
        return True
