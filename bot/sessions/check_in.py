"""Checking in: the check-in with its confirmation queued, then what other features do."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from bot.results import Duplicate, Refusal
from bot.sessions.requests import CheckInAnswers, CheckInChoice
from bot.sessions.results import CheckedIn, Noted, Unchanged
from bot.sessions.service import SessionService
from bot.sessions.steps import run_each

# React to a committed check-in (a late arrival joins a breakout room).
CheckInHook = Callable[[CheckedIn], object]


class CheckingIn:
    """Records a check-in and queues its private confirmation in the same transaction, then lets
    features react to it.

    Built once for the process; features add their hooks to `on_check_in` at start-up.
    """

    def __init__(
        self, sessions: SessionService, *, on_check_in: list[CheckInHook] | None = None
    ) -> None:
        self.sessions = sessions
        self.on_check_in: list[CheckInHook] = on_check_in if on_check_in is not None else []

    def check_in(
        self, *, session_id: int, user_id: str, answers: CheckInAnswers, delivery_key: str | None
    ) -> CheckedIn | Refusal | Duplicate:
        """Record (or update) a check-in and its confirmation; committed before the caller is
        told."""
        return self.sessions.check_in(
            session_id=session_id,
            user_id=user_id,
            answers=answers,
            delivery_key=delivery_key,
            confirm=True,
        )

    def choose(
        self,
        *,
        session_id: int,
        user_id: str,
        choice: CheckInChoice,
        delivery_key: str | None,
        response_url: str | None,
    ) -> CheckedIn | Noted | Unchanged | Refusal | Duplicate:
        """One click on the session message (a role, a place, "Quote me"): the check-in or its
        change with its private reply, committed before the caller is told. A `CheckedIn` is
        followed up like a submitted form."""
        return self.sessions.choose(
            session_id=session_id,
            user_id=user_id,
            choice=choice,
            delivery_key=delivery_key,
            response_url=response_url,
        )

    def follow_up(self, checked_in: CheckedIn) -> None:
        """What features do after the check-in is committed (and acknowledged), each isolated."""
        run_each(
            [partial(hook, checked_in) for hook in self.on_check_in],
            what=f"check-in of {checked_in.participant.user_id}",
        )
