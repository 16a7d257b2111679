"""Sessions: starting, checking in, status and ending. No Slack types here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.config import Settings
from bot.parsing import CommandSpec, FlagSpec, Parsed, UsageError, escape_mrkdwn, parse
from bot.zoom import parse_meeting_id
from storage import repository as repo
from storage.db import Database
from storage.models import ATTRIBUTE_MAX, TITLE_MAX, ListeningSession, Participant

ROLE_MAX = 75  # a role is offered back as a select option, whose text holds 75 characters

START_SPEC = CommandSpec(
    name="/session start",
    usage='/session start "<title>" [--area "<place>"] [--group "<group type>"] '
    "[--zoom <meeting id or join URL>]",
    example='/session start "Durham listening session" --area Durham --group CLP '
    "--zoom https://zoom.us/j/81234567890",
    flags=(
        FlagSpec("area", "str", metavar='"<place>"', max_length=ATTRIBUTE_MAX),
        FlagSpec("group", "str", metavar='"<group type>"', max_length=ATTRIBUTE_MAX),
        FlagSpec("zoom", "str", metavar="<meeting id or join URL>", max_length=500),
    ),
    positional_names=("title",),
    min_positionals=1,
    max_positionals=1,
    positional_max_length=TITLE_MAX,
)
STATUS_SPEC = CommandSpec(
    name="/session status", usage="/session status", example="/session status"
)
END_SPEC = CommandSpec(name="/session end", usage="/session end", example="/session end")
SUBCOMMANDS: dict[str, CommandSpec] = {"start": START_SPEC, "status": STATUS_SPEC, "end": END_SPEC}
SESSION_USAGE = "/session start | status | end | help"
SESSION_EXAMPLE = START_SPEC.example

DEFAULT_ROLES = (
    "Member",
    "Trade union member",
    "Councillor",
    "Branch officer",
    "Supporter",
    "Staff",
    "Guest",
)

# Slack stops redelivering within minutes; an hour of keys is plenty to recognise a retry.
DELIVERY_MEMORY = timedelta(hours=1)


@dataclass(frozen=True)
class StartRequest:
    """A validated `/session start`."""

    title: str
    area: str | None
    group_type: str | None
    zoom_meeting_id: str | None


@dataclass(frozen=True)
class Refusal:
    """A command that was not carried out, with the reason to show the caller."""

    message: str


@dataclass(frozen=True)
class Duplicate:
    """A redelivery of something already done: do nothing and say nothing."""


@dataclass(frozen=True)
class SessionView:
    """What status and the session message show."""

    session: ListeningSession
    attendance: repo.Attendance


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
class CheckInAnswers:
    """What a participant submitted in the check-in form."""

    role: str | None
    place: str | None
    group_name: str | None
    consent_to_quote: bool


@dataclass(frozen=True)
class CheckedIn:
    """A committed check-in."""

    participant: Participant
    first_time: bool
    channel_id: str


def parse_start(parsed: Parsed) -> StartRequest | UsageError:
    """Turn parsed `/session start` arguments into a request, checking the Zoom reference."""
    zoom_text = parsed.flags.get("zoom")
    meeting_id = None
    if isinstance(zoom_text, str):
        meeting_id = parse_meeting_id(zoom_text)
        if meeting_id is None:
            return UsageError(
                message="--zoom takes a meeting ID (9 to 11 digits) or a Zoom join URL "
                "like https://zoom.us/j/81234567890.",
                usage=START_SPEC.usage,
                example=START_SPEC.example,
            )
    area = parsed.flags.get("area")
    group = parsed.flags.get("group")
    return StartRequest(
        title=parsed.positionals[0],
        area=area if isinstance(area, str) else None,
        group_type=group if isinstance(group, str) else None,
        zoom_meeting_id=meeting_id,
    )


def parse_start_text(text: str) -> StartRequest | UsageError:
    """Parse the text after `/session start`."""
    parsed = parse(START_SPEC, text)
    return parsed if isinstance(parsed, UsageError) else parse_start(parsed)


def clean_answer(value: str | None, limit: int) -> str | None:
    """A form answer stripped, empty meaning not given, cut to the column's size."""
    if value is None:
        return None
    value = " ".join(value.split())
    return value[:limit] or None


class SessionService:
    """Session rules on top of the repository: who may do what, and what it changes."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    def is_facilitator(self, user_id: str, session: ListeningSession | None) -> bool:
        """Whether `user_id` may control `session` (or start one, when `session` is None)."""
        if user_id in self.settings.FACILITATORS:
            return True
        if session is None:
            # With no FACILITATORS list, anyone may start a session and so facilitate it.
            return not self.settings.FACILITATORS
        assert session.id is not None
        with self.db.read() as db:
            return user_id in repo.session_facilitators(db, session_id=session.id)

    def controlled_session(self, *, channel_id: str, user_id: str) -> ListeningSession | Refusal:
        """The channel's active session if `user_id` may control it, else why not."""
        session = self.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        if not self.is_facilitator(user_id, session):
            return Refusal(not_facilitator(session))
        return session

    def facilitators(self, session: ListeningSession) -> list[str]:
        """Everyone who may control `session`: its own facilitators, then FACILITATORS."""
        assert session.id is not None
        with self.db.read() as db:
            own = repo.session_facilitators(db, session_id=session.id)
        ordered = [session.started_by, *sorted(own - {session.started_by})]
        return list(dict.fromkeys([*ordered, *self.settings.FACILITATORS]))

    def active_session(self, channel_id: str) -> ListeningSession | None:
        """The channel's active session."""
        with self.db.read() as db:
            return repo.get_active_session(db, channel_id=channel_id)

    def already_done(self, delivery_key: str | None) -> bool:
        """Whether a delivery with this key was already carried out."""
        if delivery_key is None:
            return False
        with self.db.read() as db:
            return repo.delivery_seen(db, key=delivery_key)

    def start(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: StartRequest,
        delivery_key: str | None,
    ) -> ListeningSession | Refusal | Duplicate:
        """Start a session in a channel that has none."""
        if not self.is_facilitator(user_id, None):
            return Refusal(
                "Only facilitators can start a session here. Ask an organiser to add your "
                "member ID to FACILITATORS."
            )
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                return repo.create_session(
                    db,
                    channel_id=channel_id,
                    title=request.title,
                    area=request.area,
                    group_type=request.group_type,
                    zoom_meeting_id=request.zoom_meeting_id,
                    started_by=user_id,
                    now=now,
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        except repo.ActiveSessionExists as error:
            return Refusal(self._already_running(error.existing))

    def remember_delivery(self, delivery_key: str | None) -> bool:
        """Record a delivery whose effect is only a message; False if it was seen before."""
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=self.clock.now())
        except repo.DuplicateDelivery:
            return False
        return True

    def prune_deliveries(self) -> int:
        """Forget delivery keys older than Slack's redelivery window."""
        with self.db.transaction() as db:
            return repo.prune_deliveries(db, before=self.clock.now() - DELIVERY_MEMORY)

    def _already_running(self, existing: ListeningSession) -> str:
        return (
            f"“{escape_mrkdwn(existing.title)}” is already running in this channel "
            f"(started by <@{existing.started_by}>). End it with `/session end` first, "
            "or start the new session in another channel."
        )

    def discard(self, session_id: int) -> None:
        """Delete a session whose start message could not be posted, so it can be retried."""
        with self.db.transaction() as db:
            session = repo.get_session(db, session_id=session_id)
            if session is not None:
                db.delete(session)

    def set_message(self, session_id: int, message_ts: str) -> None:
        """Remember where the session's message is."""
        with self.db.transaction() as db:
            repo.set_session_message(db, session_id=session_id, message_ts=message_ts)

    def view(self, session: ListeningSession) -> SessionView:
        """The session with its attendance."""
        assert session.id is not None
        with self.db.read() as db:
            return SessionView(session, repo.attendance(db, session_id=session.id))

    def status(self, channel_id: str) -> SessionView | Refusal:
        """What `/session status` shows."""
        session = self.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        return self.view(session)

    def end(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> SessionView | Refusal | Duplicate:
        """End the channel's session (facilitators only); only the first end counts."""
        session = self.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        if not self.is_facilitator(user_id, session):
            return Refusal(not_facilitator(session))
        assert session.id is not None
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                if not repo.end_session(db, session_id=session.id, ended_by=user_id, now=now):
                    return Refusal("This session has already ended.")
                ended = repo.get_session(db, session_id=session.id)
                assert ended is not None
                db.refresh(ended)
                return SessionView(ended, repo.attendance(db, session_id=session.id))
        except repo.DuplicateDelivery:
            return Duplicate()

    def check_in_form(self, *, session_id: int, user_id: str) -> CheckInForm | Refusal:
        """The check-in form for a person, pre-filled from their last check-in or the session."""
        with self.db.read() as db:
            session = repo.get_session(db, session_id=session_id)
            if session is None:
                return Refusal("That session no longer exists.")
            if session.ended_at is not None:
                return Refusal(
                    f"“{escape_mrkdwn(session.title)}” has ended, so check-in is closed."
                )
            participant = repo.get_participant(db, session_id=session_id, user_id=user_id)
        returning = participant is not None and participant.checked_in_at is not None
        return CheckInForm(
            session=session,
            role=participant.role if participant else None,
            place=(participant.place if returning and participant else None) or session.area,
            group_name=(participant.group_name if returning and participant else None)
            or session.group_type,
            consent_to_quote=bool(participant and participant.consent_to_quote),
            returning=returning,
        )

    def check_in(
        self,
        *,
        session_id: int,
        user_id: str,
        answers: CheckInAnswers,
        delivery_key: str | None,
    ) -> CheckedIn | Refusal | Duplicate:
        """Record (or update) a check-in; committed before the caller is told."""
        if not answers.role:
            return Refusal("Please give your role.")
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                session = repo.get_session(db, session_id=session_id)
                if session is None or session.ended_at is not None:
                    return Refusal("This session has ended, so check-in is closed.")
                repo.record_delivery(db, key=delivery_key, now=now)
                participant, first = repo.check_in(
                    db,
                    session_id=session_id,
                    user_id=user_id,
                    role=clean_answer(answers.role, ROLE_MAX),
                    place=clean_answer(answers.place, ATTRIBUTE_MAX),
                    group_name=clean_answer(answers.group_name, ATTRIBUTE_MAX),
                    consent_to_quote=answers.consent_to_quote,
                    now=now,
                )
                return CheckedIn(participant, first, session.channel_id)
        except repo.DuplicateDelivery:
            return Duplicate()

    def role_suggestions(self, typed: str) -> list[str]:
        """Roles to offer for what someone has typed: their own words first, then matches."""
        typed = clean_answer(typed, ROLE_MAX) or ""
        with self.db.read() as db:
            known = repo.known_roles(db)
        candidates = list(dict.fromkeys([*DEFAULT_ROLES, *known]))
        matches = [role for role in candidates if typed.casefold() in role.casefold()]
        exact = any(role.casefold() == typed.casefold() for role in matches)
        suggestions = ([typed] if typed and not exact else []) + matches
        return suggestions[:100]  # Slack shows at most 100 options


NO_SESSION = (
    "There is no session running in this channel. Start one with "
    '`/session start "&lt;title&gt;"`, e.g. '
    '`/session start "Durham listening session" --area Durham`.'
)


def not_facilitator(session: ListeningSession) -> str:
    """The polite refusal for a control command from someone who is not a facilitator."""
    return (
        f"Sorry, only the facilitators of “{escape_mrkdwn(session.title)}” can do that. "
        f"<@{session.started_by}> started it and can help."
    )
