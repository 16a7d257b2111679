"""What the session rules hand back: views of a session, the check-in form, refusal texts."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.parsing import escape_mrkdwn
from storage import repository as repo
from storage.models import ListeningSession, Participant

NO_SESSION = (
    "There is no session running in this channel. Start one with "
    '`/session start "&lt;title&gt;"`, e.g. '
    '`/session start "Durham listening session" --area Durham`.'
)


@dataclass(frozen=True)
class SessionView:
    """What status and the session message show."""

    session: ListeningSession
    attendance: repo.Attendance


@dataclass(frozen=True)
class SessionStatus:
    """What `/session status` shows its caller."""

    view: SessionView
    running: list[str]  # "Running now" lines: open polls, the current round, ...
    facilitators: list[str]
    is_facilitator: bool  # whether the caller is one of them
    agenda: list[str] = field(default_factory=list)  # the run sheet's steps and where it is


@dataclass(frozen=True)
class CheckInForm:
    """What the check-in form is pre-filled with."""

    session: ListeningSession
    role: str | None
    place: str | None
    group_name: str | None
    consent_to_quote: bool
    returning: bool


@dataclass(frozen=True)
class CheckInChoices:
    """What the session message offers to pick from; empty `places`: no place picker."""

    roles: tuple[str, ...]
    places: tuple[str, ...]


@dataclass(frozen=True)
class Noted:
    """A click before the person checked in (a place, quote consent): kept for their check-in,
    which still needs a role."""

    participant: Participant
    channel_id: str


@dataclass(frozen=True)
class Unchanged:
    """A click that changed nothing (the same role again): nothing queued, nothing to say."""


@dataclass(frozen=True)
class CheckedIn:
    """A committed check-in."""

    participant: Participant
    first_time: bool
    channel_id: str


def not_facilitator(session: ListeningSession) -> str:
    """The polite refusal for a control command from someone who is not a facilitator."""
    return (
        f"Sorry, only the facilitators of “{escape_mrkdwn(session.title)}” can do that. "
        f"<@{session.started_by}> started it and can help."
    )
