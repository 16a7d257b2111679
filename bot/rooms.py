"""Breakout rounds and report-backs: rooms, timers, moves, late arrivals. No Slack types here.

Slack output for events nobody typed a command for (timers, a session ending, a late check-in,
recovery on start) goes through `RoomService.announcer`, which the Slack handlers attach.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session

from bot import scheduler as scheduling
from bot.assignment import Mode, Person, assign_rooms, pair_history, parse_mode, rooms_for_size
from bot.clock import Clock
from bot.config import Settings
from bot.parsing import (
    CommandSpec,
    FlagSpec,
    Parsed,
    UsageError,
    escape_mrkdwn,
    format_duration,
    parse,
)
from bot.sessions import (
    NO_SESSION,
    CheckedIn,
    Duplicate,
    Refusal,
    SessionService,
)
from storage import repository as repo
from storage import rooms as store
from storage.db import Database
from storage.models import ATTRIBUTE_MAX, ListeningSession
from storage.rooms import (
    PROMPT_MAX,
    THEME_MAX,
    BreakoutRoom,
    BreakoutRound,
    NewQuote,
    ReportBack,
    ReportQuote,
    RoomMember,
    SessionTheme,
)

logger = logging.getLogger(__name__)

ROOMS_MAX = 100  # one channel message per room; more would flood the channel
SIZE_MAX = 1000
DEFAULT_TIME = timedelta(minutes=15)
MIN_TIME = timedelta(minutes=1)
MAX_TIME = timedelta(hours=3)
WARNING_BEFORE = timedelta(minutes=2)
# Below this length the 2-minute warning would come too early, so it comes at 80% instead.
SHORT_ROUND = WARNING_BEFORE * 5
# Rooms still without a report-back this long after the round ends get one reminder.
REMINDER_AFTER = timedelta(minutes=3)
SEED_MAX = 2**31 - 1

SUMMARY_MAX = 3000  # Slack's plain_text_input holds at most 3,000 characters
KEY_POINTS_MAX = 3000
KEY_POINTS_LINES = 30
QUOTE_MAX = 1000
QUOTES_MAX = 5
NEW_THEMES_MAX = 500
THEMES_PER_REPORT = 10

BREAKOUT_SPEC = CommandSpec(
    name="/breakout",
    usage="/breakout <rooms> | --size <people per room> [--time 15m] "
    '[--mode random|mix:<attr>|group:<attr>] [--prompt "<question>"] [--seed N]',
    example='/breakout 5 --time 15m --mode mix:group --prompt "What would change things '
    'where you live?"',
    flags=(
        FlagSpec("size", "int", metavar="<people per room>", min_value=2, max_value=SIZE_MAX),
        FlagSpec("time", "duration", min_value=MIN_TIME, max_value=MAX_TIME),
        FlagSpec("mode", "choice", choices=("random", "mix:", "group:")),
        FlagSpec("prompt", "str", metavar='"<question>"', max_length=PROMPT_MAX),
        FlagSpec("seed", "int", metavar="<N>", min_value=0, max_value=SEED_MAX),
    ),
    positional_names=("number of rooms",),
    max_positionals=1,
)
END_SPEC = CommandSpec(name="/breakout end", usage="/breakout end", example="/breakout end")
MOVE_SPEC = CommandSpec(
    name="/breakout move",
    usage="/breakout move @someone <room number>",
    example="/breakout move @Sam 3",
    positional_names=("person", "room number"),
    min_positionals=2,
    max_positionals=2,
)
BREAKOUT_USAGE = "/breakout <rooms> [options] | --size <n> [options] | end | move | help"
REPORT_SPEC = CommandSpec(name="/report", usage="/report", example="/report")

_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>")

# Field names of the report-back form; the view uses them as block ids, so errors land there.
FIELD_ROOM = "report_room"
FIELD_SUMMARY = "report_summary"
FIELD_KEY_POINTS = "report_key_points"
FIELD_THEMES = "report_themes"
FIELD_NEW_THEMES = "report_new_themes"


def quote_field(part: str, index: int) -> str:
    """The field of quote `index` (1-5): part is text, role, place or consent."""
    return f"report_quote_{index}_{part}"


# -- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakoutRequest:
    """A validated `/breakout` (the people-dependent checks come later)."""

    rooms: int | None
    size: int | None
    duration: timedelta
    mode: Mode
    prompt: str | None
    seed: int | None


@dataclass(frozen=True)
class MoveRequest:
    """A validated `/breakout move`."""

    user_id: str
    room_number: int


def _usage(spec: CommandSpec, message: str) -> UsageError:
    return UsageError(message, spec.usage, spec.example)


def parse_breakout(parsed: Parsed) -> BreakoutRequest | UsageError:
    """Turn parsed `/breakout` arguments into a request."""
    size = parsed.int_flag("size")
    rooms: int | None = None
    if parsed.positionals:
        text = parsed.positionals[0]
        if not text.isdecimal() or len(text) > 6:
            return _usage(
                BREAKOUT_SPEC,
                f"“{text[:40]}” is not a number of rooms: give a whole number, like "
                "`/breakout 5`, or people per room with `--size 4`.",
            )
        rooms = int(text)
        if rooms < 1:
            return _usage(BREAKOUT_SPEC, "The number of rooms must be at least 1; got 0.")
        if rooms > ROOMS_MAX:
            return _usage(BREAKOUT_SPEC, f"At most {ROOMS_MAX} rooms at a time; got {rooms:,}.")
    if rooms is not None and size is not None:
        return _usage(
            BREAKOUT_SPEC,
            "Give either a number of rooms or --size (people per room), not both.",
        )
    if rooms is None and size is None:
        return _usage(
            BREAKOUT_SPEC,
            "Say how many rooms, like `/breakout 5`, or how many people per room, like "
            "`/breakout --size 4`.",
        )
    mode_text = parsed.str_flag("mode")
    try:
        mode = parse_mode(mode_text) if mode_text else Mode()
    except ValueError as error:
        return _usage(BREAKOUT_SPEC, str(error))
    return BreakoutRequest(
        rooms=rooms,
        size=size,
        duration=parsed.duration_flag("time") or DEFAULT_TIME,
        mode=mode,
        prompt=parsed.str_flag("prompt"),
        seed=parsed.int_flag("seed"),
    )


def parse_breakout_text(text: str) -> BreakoutRequest | UsageError:
    """Parse the text of `/breakout <rooms> …` or `/breakout --size <n> …`."""
    parsed = parse(BREAKOUT_SPEC, text)
    return parsed if isinstance(parsed, UsageError) else parse_breakout(parsed)


def parse_move_text(text: str) -> MoveRequest | UsageError:
    """Parse the text after `/breakout move`."""
    # A mention's label may hold spaces ("<@U123|Sam Jones>"); only the id matters.
    parsed = parse(MOVE_SPEC, _MENTION.sub(lambda m: f"<@{m.group(1)}>", text))
    if isinstance(parsed, UsageError):
        return parsed
    who, room = parsed.positionals
    match = _MENTION.fullmatch(who)
    if match is None:
        return _usage(
            MOVE_SPEC,
            f"“{who[:40]}” is not a mention: type @ and pick the person from the list, so "
            "Slack sends who it is.",
        )
    if not room.isdecimal() or len(room) > 6:
        return _usage(MOVE_SPEC, f"“{room[:40]}” is not a room number: give a number like 3.")
    return MoveRequest(user_id=match.group(1), room_number=int(room))


def warning_time(start: datetime, end: datetime) -> datetime:
    """When to warn: 2 minutes before the end, or at 80% of a short round."""
    duration = end - start
    if duration >= SHORT_ROUND:
        return end - WARNING_BEFORE
    return start + timedelta(seconds=int(duration.total_seconds() * 0.8))


# -- what rounds look like --------------------------------------------------------------------


@dataclass(frozen=True)
class RoomView:
    """A room with its members (in the order they joined) and whether it has reported."""

    room: BreakoutRoom
    members: list[RoomMember]
    reported: bool

    @property
    def number(self) -> int:
        """The room's number in its round."""
        return self.room.number

    @property
    def user_ids(self) -> list[str]:
        """Member user ids."""
        return [member.user_id for member in self.members]


@dataclass(frozen=True)
class RoundView:
    """A round, its session and its rooms."""

    session: ListeningSession
    round: BreakoutRound
    rooms: list[RoomView]

    @property
    def people(self) -> int:
        """How many people are in the round's rooms."""
        return sum(len(room.members) for room in self.rooms)

    @property
    def reported(self) -> int:
        """How many rooms have reported back."""
        return sum(1 for room in self.rooms if room.reported)

    def room_by_id(self, room_id: int) -> RoomView | None:
        """One of the round's rooms."""
        return next((room for room in self.rooms if room.room.id == room_id), None)

    def room_of(self, user_id: str) -> RoomView | None:
        """The room a person is in."""
        return next((room for room in self.rooms if user_id in room.user_ids), None)


@dataclass(frozen=True)
class RoundStarted:
    """A committed new round, with a note for the facilitator when the mode had nothing to use."""

    view: RoundView
    note: str | None = None


@dataclass(frozen=True)
class RoomChange:
    """Someone joined a room late or was moved."""

    view: RoundView
    user_id: str
    to_room: RoomView
    from_room: RoomView | None = None
    moved_by: str | None = None


@dataclass(frozen=True)
class RoundEnded:
    """A round that just ended: by time, by a facilitator, or with the session."""

    view: RoundView
    reason: str


@dataclass(frozen=True)
class Reminders:
    """Rooms that were reminded to report back."""

    view: RoundView
    rooms: list[RoomView]


# -- report-backs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteAnswer:
    """One quote slot of the form, as typed."""

    text: str | None = None
    role: str | None = None
    place: str | None = None
    consent: bool = False


@dataclass(frozen=True)
class ReportAnswers:
    """The report-back form as submitted (raw values)."""

    summary: str | None
    key_points: str | None = None
    quotes: tuple[QuoteAnswer, ...] = ()
    theme_ids: tuple[str, ...] = ()
    new_themes: str | None = None
    room_id: str | None = None  # a facilitator's choice of room


@dataclass(frozen=True)
class ReportContent:
    """One stored version of a report-back with its quotes and themes."""

    report: ReportBack
    quotes: list[ReportQuote]
    themes: list[SessionTheme]

    @property
    def key_points(self) -> list[str]:
        """The key points, one per line."""
        return [line for line in self.report.key_points.split("\n") if line]


@dataclass(frozen=True)
class ReportForm:
    """What the report-back form shows: the room, the choice of rooms, themes, the last version."""

    view: RoundView
    room: RoomView
    facilitator: bool
    themes: list[SessionTheme]
    latest: ReportContent | None


@dataclass(frozen=True)
class ReportSaved:
    """A committed report-back version."""

    view: RoundView
    room: RoomView
    content: ReportContent


@dataclass(frozen=True)
class FormErrors:
    """What was wrong with a submitted form, by field."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanReport:
    """Validated report-back answers, ready to store."""

    summary: str
    key_points: list[str]
    quotes: list[NewQuote]
    theme_ids: list[int]
    new_themes: list[str]


def _too_long(what: str, text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"{what} is {len(text):,} characters long; the limit is {limit:,}."
    return None


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _split_themes(text: str | None) -> list[str]:
    parts = re.split(r"[,;\n]", text or "")
    names = [_one_line(part) for part in parts]
    unique: dict[str, str] = {}
    for name in names:
        if name:
            unique.setdefault(store.theme_key(name), name)
    return list(unique.values())


def _key_point_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = _one_line(raw).lstrip("•*-– ").strip()
        if line:
            lines.append(line)
    return lines


def validate_report(
    answers: ReportAnswers, themes: Sequence[SessionTheme]
) -> CleanReport | FormErrors:
    """Check a submitted report-back against the form's rules and Slack's input limits."""
    errors: dict[str, str] = {}
    summary = (answers.summary or "").strip()
    if not summary:
        errors[FIELD_SUMMARY] = "Please write a short summary of what your room said."
    elif problem := _too_long("The summary", summary, SUMMARY_MAX):
        errors[FIELD_SUMMARY] = problem
    points_text = answers.key_points or ""
    points = _key_point_lines(points_text)
    if problem := _too_long("The key points", points_text, KEY_POINTS_MAX):
        errors[FIELD_KEY_POINTS] = problem
    elif len(points) > KEY_POINTS_LINES:
        errors[FIELD_KEY_POINTS] = (
            f"At most {KEY_POINTS_LINES} key points, one per line; got {len(points)}."
        )
    quotes: list[NewQuote] = []
    if len(answers.quotes) > QUOTES_MAX:
        errors[quote_field("text", QUOTES_MAX)] = f"At most {QUOTES_MAX} quotes."
    for index, answer in enumerate(answers.quotes[:QUOTES_MAX], start=1):
        quote = _check_quote(answer, index, errors)
        if quote is not None:
            quotes.append(quote)
    known = {str(theme.id): theme for theme in themes}
    chosen = [known[value] for value in dict.fromkeys(answers.theme_ids) if value in known]
    if len(chosen) != len(set(answers.theme_ids)):
        errors[FIELD_THEMES] = "Pick themes from the list (one is no longer there)."
    new_text = answers.new_themes or ""
    new_names = _split_themes(new_text)
    if problem := _too_long("The new themes", new_text, NEW_THEMES_MAX):
        errors[FIELD_NEW_THEMES] = problem
    elif long := [name for name in new_names if len(name) > THEME_MAX]:
        errors[FIELD_NEW_THEMES] = (
            f"Each theme can be {THEME_MAX} characters at most; “{long[0][:40]}…” is "
            f"{len(long[0])}. Separate themes with commas."
        )
    chosen_keys = {theme.name_key for theme in chosen}
    new_names = [name for name in new_names if store.theme_key(name) not in chosen_keys]
    if len(chosen) + len(new_names) > THEMES_PER_REPORT:
        errors[FIELD_NEW_THEMES] = f"At most {THEMES_PER_REPORT} themes per report-back."
    if errors:
        return FormErrors(errors)
    return CleanReport(
        summary=summary,
        key_points=points,
        quotes=quotes,
        theme_ids=[theme.id for theme in chosen if theme.id is not None],
        new_themes=new_names,
    )


def _check_quote(answer: QuoteAnswer, index: int, errors: dict[str, str]) -> NewQuote | None:
    """A validated quote, None for an empty slot; problems go into errors."""
    text = (answer.text or "").strip()
    role = _one_line(answer.role)
    place = _one_line(answer.place)
    if not text:
        if role or place or answer.consent:
            errors[quote_field("text", index)] = (
                "Add the quote, or clear its role, place and consent."
            )
        return None
    if problem := _too_long("The quote", text, QUOTE_MAX):
        errors[quote_field("text", index)] = problem
    if not role:
        errors[quote_field("role", index)] = (
            "Give the speaker's role (e.g. Member) so the quote can be attributed."
        )
    elif problem := _too_long("The role", role, ATTRIBUTE_MAX):
        errors[quote_field("role", index)] = problem
    if problem := _too_long("The place", place, ATTRIBUTE_MAX):
        errors[quote_field("place", index)] = problem
    return NewQuote(
        text=text, speaker_role=role or None, speaker_place=place or None, consent=answer.consent
    )


# -- Slack output for events no command asked for ---------------------------------------------


class RoomAnnouncer(Protocol):
    """Tells Slack about round events that come from timers, hooks and recovery."""

    def round_warning(self, view: RoundView) -> None:
        """Post the warning in every room's thread."""
        ...

    def round_ended(self, ended: RoundEnded) -> None:
        """Post the end of the round in every room's thread."""
        ...

    def reminders(self, reminders: Reminders) -> None:
        """Remind rooms without a report-back."""
        ...

    def member_joined(self, change: RoomChange) -> None:
        """Tell a late arrival their room, and the room about them."""
        ...


class LogAnnouncer:
    """Used until the Slack handlers attach theirs (e.g. a bare `create_services`)."""

    def round_warning(self, view: RoundView) -> None:
        """Log the warning."""
        logger.info("round %s: warning (no announcer attached)", view.round.id)

    def round_ended(self, ended: RoundEnded) -> None:
        """Log the end."""
        logger.info("round %s ended: %s (no announcer attached)", ended.view.round.id, ended.reason)

    def reminders(self, reminders: Reminders) -> None:
        """Log the reminders."""
        logger.info("round %s: %d reminders", reminders.view.round.id, len(reminders.rooms))

    def member_joined(self, change: RoomChange) -> None:
        """Log the late arrival."""
        logger.info("%s joined room %s", change.user_id, change.to_room.number)


# -- jobs ---------------------------------------------------------------------------------------


def warn_round_job(round_id: int) -> None:
    """Scheduled: the warning before a round ends."""
    scheduling.bound_services().rooms.warn(round_id)


def end_round_job(round_id: int) -> None:
    """Scheduled: the end of a round."""
    scheduling.bound_services().rooms.expire(round_id)


def remind_rooms_job(round_id: int) -> None:
    """Scheduled: remind rooms that have not reported back."""
    scheduling.bound_services().rooms.remind(round_id)


def warn_job_id(round_id: int) -> str:
    """The stable job id of a round's warning."""
    return f"breakout-warn:{round_id}"


def end_job_id(round_id: int) -> str:
    """The stable job id of a round's end."""
    return f"breakout-end:{round_id}"


def remind_job_id(round_id: int) -> str:
    """The stable job id of a round's reminders."""
    return f"breakout-remind:{round_id}"


# -- the service --------------------------------------------------------------------------------


class RoomService:
    """Breakout rules on top of the repository: who may do what, and what it changes."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        sessions: SessionService,
        deadlines: scheduling.Deadlines,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.sessions = sessions
        self.deadlines = deadlines
        self.announcer: RoomAnnouncer = LogAnnouncer()

    # -- reading ----------------------------------------------------------------------------

    def round_view(self, round_id: int) -> RoundView | None:
        """A round with its session and rooms."""
        with self.db.read() as db:
            breakout = store.get_round(db, round_id=round_id)
            if breakout is None:
                return None
            session = repo.get_session(db, session_id=breakout.session_id)
            assert session is not None
            return self._view(db, session, breakout)

    def _view(self, db: Session, session: ListeningSession, breakout: BreakoutRound) -> RoundView:
        assert breakout.id is not None
        rooms = store.rooms_of(db, round_id=breakout.id)
        members = store.members_of(db, round_id=breakout.id)
        reported = store.reported_rooms(db, round_id=breakout.id)
        by_room: dict[int, list[RoomMember]] = {}
        for member in members:
            by_room.setdefault(member.room_id, []).append(member)
        return RoundView(
            session=session,
            round=breakout,
            rooms=[
                RoomView(room, by_room.get(room.id or 0, []), room.id in reported) for room in rooms
            ],
        )

    def status_lines(self, session: ListeningSession) -> list[str]:
        """The `/session status` line for a running round."""
        assert session.id is not None
        with self.db.read() as db:
            breakout = store.running_round(db, session_id=session.id)
            if breakout is None:
                return []
            view = self._view(db, session, breakout)
        left = max(timedelta(0), breakout.ends_at - self.clock.now())
        return [
            f"Breakout round {breakout.number}: {view.people} people in {len(view.rooms)} "
            f"rooms ({breakout.mode}), {view.reported} of {len(view.rooms)} reported back, "
            f"ends in {format_duration(timedelta(seconds=int(left.total_seconds())))}. "
            "`/breakout end` ends it now."
        ]

    # -- starting ---------------------------------------------------------------------------

    def _control(self, channel_id: str, user_id: str) -> ListeningSession | Refusal:
        """The channel's session if the user may control it."""
        return self.sessions.controlled_session(channel_id=channel_id, user_id=user_id)

    def start(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: BreakoutRequest,
        delivery_key: str | None,
    ) -> RoundStarted | Refusal | UsageError | Duplicate:
        """Assign everyone checked in to rooms and start the timer (facilitators only)."""
        session = self._control(channel_id, user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        facilitators = set(self.sessions.facilitators(session))
        with self.db.read() as db:
            running = store.running_round(db, session_id=session.id)
            if running is not None:
                return Refusal(self._already_running(running))
            present = store.checked_in(db, session_id=session.id)
            latest = store.latest_round(db, session_id=session.id)
            earlier = store.earlier_rooms(
                db, session_id=session.id, before_number=(latest.number + 1) if latest else 1
            )
        people = [
            Person(
                user_id=p.user_id,
                role=p.role,
                place=p.place,
                group=p.group_name,
                facilitator=p.user_id in facilitators,
            )
            for p in present
        ]
        rooms = self._room_count(request, len(people))
        if not isinstance(rooms, int):
            return rooms
        seed = request.seed
        if seed is None:
            seed = random.SystemRandom().randint(0, SEED_MAX)
        assignment = assign_rooms(
            people, rooms, mode=request.mode, seed=seed, history=pair_history(earlier)
        )
        now = self.clock.now()
        ends_at = now + request.duration
        by_id = {p.user_id: p for p in people}
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                breakout = store.create_round(
                    db,
                    session_id=session.id,
                    mode=request.mode.label,
                    seed=seed,
                    prompt=request.prompt,
                    started_by=user_id,
                    now=now,
                    ends_at=ends_at,
                    warn_at=warning_time(now, ends_at),
                    rooms=[[(u, by_id[u].facilitator) for u in room] for room in assignment],
                )
                view = self._view(db, session, breakout)
        except repo.DuplicateDelivery:
            return Duplicate()
        except store.RoundRunning as error:
            return Refusal(self._already_running(error.existing))
        self._schedule(view.round)
        return RoundStarted(view, self._mode_note(request.mode, people))

    def _room_count(self, request: BreakoutRequest, people: int) -> int | Refusal | UsageError:
        if people == 0:
            return Refusal(
                "Nobody has checked in yet, so there is nobody to put in rooms. Ask everyone "
                "to press *Check in* on the session message, then try again."
            )
        if request.size is not None:
            if request.size > people:
                return _usage(
                    BREAKOUT_SPEC,
                    f"--size {request.size:,} is more than the {people} "
                    f"{'person' if people == 1 else 'people'} checked in; use --size "
                    f"{max(2, people // 2)} or give a number of rooms.",
                )
            rooms = rooms_for_size(people, request.size)
            if rooms > ROOMS_MAX:
                return _usage(
                    BREAKOUT_SPEC,
                    f"--size {request.size} would make {rooms:,} rooms; at most {ROOMS_MAX} "
                    f"at a time, so use --size {-(-people // ROOMS_MAX)} or more.",
                )
            return rooms
        assert request.rooms is not None
        if request.rooms > people:
            return _usage(
                BREAKOUT_SPEC,
                f"{request.rooms} rooms is more than the {people} "
                f"{'person' if people == 1 else 'people'} checked in; use at most {people}.",
            )
        return request.rooms

    def _mode_note(self, mode: Mode, people: Sequence[Person]) -> str | None:
        attribute = mode.attribute
        if attribute is None:
            return None
        if not any(p.value(attribute) for p in people):
            return f"Nobody gave a {attribute} when checking in, so the rooms are random."
        return None

    def _already_running(self, running: BreakoutRound) -> str:
        left = max(timedelta(0), running.ends_at - self.clock.now())
        return (
            f"Breakout round {running.number} is still running "
            f"({format_duration(timedelta(seconds=int(left.total_seconds())))} left). "
            "End it with `/breakout end` first, then start the next round."
        )

    def _schedule(self, breakout: BreakoutRound) -> None:
        """Schedule the warning and the end (jobs only announce; the row holds the deadlines)."""
        assert breakout.id is not None
        if breakout.warned_at is None and breakout.warn_at > self.clock.now():
            self.deadlines.schedule(
                warn_job_id(breakout.id), warn_round_job, breakout.warn_at, breakout.id
            )
        self.deadlines.schedule(
            end_job_id(breakout.id), end_round_job, breakout.ends_at, breakout.id
        )

    def discard(self, round_id: int) -> None:
        """Delete a round whose rooms could not be posted, so the facilitator can retry."""
        self.deadlines.cancel(warn_job_id(round_id))
        self.deadlines.cancel(end_job_id(round_id))
        with self.db.transaction() as db:
            store.delete_round(db, round_id=round_id)

    def set_room_message(self, room_id: int, message_ts: str) -> None:
        """Remember where a room's message (and so its thread) is."""
        with self.db.transaction() as db:
            store.set_room_message(db, room_id=room_id, message_ts=message_ts)

    def set_report_message(self, room_id: int, report_ts: str) -> None:
        """Remember a room's compact report-back post in the channel."""
        with self.db.transaction() as db:
            store.set_report_message(db, room_id=room_id, report_ts=report_ts)

    # -- timers -----------------------------------------------------------------------------

    def warn(self, round_id: int) -> None:
        """Post the warning once (not after the round has ended)."""
        with self.db.transaction() as db:
            if not store.mark_warned(db, round_id=round_id, now=self.clock.now()):
                return
        view = self.round_view(round_id)
        if view is not None:
            self.announcer.round_warning(view)

    def expire(self, round_id: int) -> None:
        """The round's time is up: end it once and announce that."""
        ended = self._finish(round_id, reason="time", by=None)
        if ended is not None:
            self.announcer.round_ended(ended)

    def _finish(
        self, round_id: int, *, reason: str, by: str | None, delivery_key: str | None = None
    ) -> RoundEnded | None:
        """End a round (compare-and-set); None if it had already ended.

        Raises:
            repo.DuplicateDelivery: the command that asked for it was already carried out.
        """
        now = self.clock.now()
        remind_at = now + REMINDER_AFTER if reason != "session" else None
        with self.db.transaction() as db:
            repo.record_delivery(db, key=delivery_key, now=now)
            if not store.end_round(
                db, round_id=round_id, now=now, ended_by=by, reason=reason, remind_at=remind_at
            ):
                return None
        self.deadlines.cancel(warn_job_id(round_id))
        self.deadlines.cancel(end_job_id(round_id))
        if remind_at is not None:
            self.deadlines.schedule(remind_job_id(round_id), remind_rooms_job, remind_at, round_id)
        view = self.round_view(round_id)
        return None if view is None else RoundEnded(view, reason)

    def end(
        self, *, channel_id: str, user_id: str, delivery_key: str | None
    ) -> RoundEnded | Refusal | Duplicate:
        """`/breakout end`: end the running round now (facilitators only)."""
        session = self._control(channel_id, user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        with self.db.read() as db:
            running = store.running_round(db, session_id=session.id)
        if running is None or running.id is None:
            return Refusal(
                "No breakout round is running. Start one with a number of rooms, "
                "e.g. `/breakout 5`."
            )
        try:
            ended = self._finish(
                running.id, reason="facilitator", by=user_id, delivery_key=delivery_key
            )
        except repo.DuplicateDelivery:
            return Duplicate()
        if ended is None:
            return Refusal("That round has just ended.")
        return ended

    def end_for_session(self, session: ListeningSession) -> None:
        """Session-end hook: the running round ends with the session."""
        assert session.id is not None
        with self.db.read() as db:
            running = store.running_round(db, session_id=session.id)
        if running is None or running.id is None:
            return
        ended = self._finish(running.id, reason="session", by=session.ended_by)
        if ended is not None:
            self.announcer.round_ended(ended)

    def remind(self, round_id: int) -> None:
        """Remind each room still without a report-back, once, while the session runs."""
        now = self.clock.now()
        reminded: list[int] = []
        with self.db.transaction() as db:
            if not store.mark_reminded(db, round_id=round_id, now=now):
                return
            session = store.session_of_round(db, round_id=round_id)
            if session is None or session.ended_at is not None:
                return  # report-backs are closed; nothing to remind about
            reported = store.reported_rooms(db, round_id=round_id)
            for room in store.rooms_of(db, round_id=round_id):
                assert room.id is not None
                if room.id not in reported and store.mark_room_reminded(
                    db, room_id=room.id, now=now
                ):
                    reminded.append(room.id)
        view = self.round_view(round_id)
        if view is not None and reminded:
            rooms = [room for room in view.rooms if room.room.id in reminded]
            self.announcer.reminders(Reminders(view, rooms))

    def recover(self) -> None:
        """On start (or as a sweep): end what is overdue once, warn, remind, reschedule the rest."""
        now = self.clock.now()
        with self.db.read() as db:
            running = [
                (breakout, store.session_of_round(db, round_id=breakout.id or 0))
                for breakout in store.open_rounds(db)
            ]
            waiting = store.rounds_awaiting_reminders(db)
        for breakout, session in running:
            assert breakout.id is not None
            if session is None or session.ended_at is not None:
                ended = self._finish(
                    breakout.id, reason="session", by=session.ended_by if session else None
                )
                if ended is not None:
                    self.announcer.round_ended(ended)
            elif breakout.ends_at <= now:
                self.expire(breakout.id)
            else:
                if breakout.warned_at is None and breakout.warn_at <= now:
                    self.warn(breakout.id)
                self._schedule(breakout)
        for breakout in waiting:
            assert breakout.id is not None
            assert breakout.remind_at is not None
            if breakout.remind_at <= now:
                self.remind(breakout.id)
            else:
                self.deadlines.schedule(
                    remind_job_id(breakout.id), remind_rooms_job, breakout.remind_at, breakout.id
                )

    # -- people ---------------------------------------------------------------------------

    def join_late(self, checked: CheckedIn) -> None:
        """Check-in hook: someone checking in during a round joins the smallest room."""
        person = checked.participant
        now = self.clock.now()
        session = self.sessions.active_session(checked.channel_id)
        if session is None or session.id != person.session_id:
            return
        with self.db.read() as db:
            # Most check-ins happen with no round running: no need to take the write lock.
            if store.running_round(db, session_id=session.id) is None:
                return
        facilitator = self.sessions.is_facilitator(person.user_id, session)
        with self.db.transaction() as db:
            breakout = store.running_round(db, session_id=person.session_id)
            if breakout is None or breakout.id is None:
                return
            if store.membership(db, round_id=breakout.id, user_id=person.user_id) is not None:
                return
            view = self._view(db, session, breakout)
            smallest = min(view.rooms, key=lambda room: (len(room.members), room.number))
            assert smallest.room.id is not None
            added = store.add_member(
                db,
                round_id=breakout.id,
                room_id=smallest.room.id,
                user_id=person.user_id,
                facilitator=facilitator,
                now=now,
                how="late",
            )
            if added is None:
                return
        after = self.round_view(breakout.id)
        assert after is not None
        joined = after.room_by_id(smallest.room.id)
        assert joined is not None
        self.announcer.member_joined(RoomChange(after, person.user_id, joined))

    def move(
        self,
        *,
        channel_id: str,
        user_id: str,
        request: MoveRequest,
        delivery_key: str | None,
    ) -> RoomChange | Refusal | Duplicate:
        """`/breakout move`: put someone in another room of the running round."""
        session = self._control(channel_id, user_id)
        if isinstance(session, Refusal):
            return session
        assert session.id is not None
        with self.db.read() as db:
            breakout = store.running_round(db, session_id=session.id)
            if breakout is None or breakout.id is None:
                return Refusal("No breakout round is running, so there is nobody to move.")
            view = self._view(db, session, breakout)
        target = next((r for r in view.rooms if r.number == request.room_number), None)
        if target is None:
            return Refusal(
                f"There is no Room {request.room_number:,}: round {breakout.number} has rooms "
                f"1 to {len(view.rooms)}."
            )
        source = view.room_of(request.user_id)
        if source is None:
            return Refusal(
                f"<@{request.user_id}> is not in any room of round {breakout.number}. People "
                "join a room when they check in; ask them to press *Check in* first."
            )
        if source.number == target.number:
            return Refusal(f"<@{request.user_id}> is already in Room {target.number}.")
        member = next(m for m in source.members if m.user_id == request.user_id)
        assert member.id is not None
        assert target.room.id is not None
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=self.clock.now())
                store.move_member(
                    db, member_id=member.id, room_id=target.room.id, now=self.clock.now()
                )
        except repo.DuplicateDelivery:
            return Duplicate()
        after = self.round_view(breakout.id)
        assert after is not None
        to_room = after.room_by_id(target.room.id)
        from_room = after.room_by_id(source.room.id or 0)
        assert to_room is not None
        return RoomChange(after, request.user_id, to_room, from_room, moved_by=user_id)

    # -- report-backs ---------------------------------------------------------------------

    def report_form_for_channel(self, channel_id: str, user_id: str) -> ReportForm | Refusal:
        """`/report`: the form for the caller's room in the session's newest round."""
        session = self.sessions.active_session(channel_id)
        if session is None:
            return Refusal(NO_SESSION)
        assert session.id is not None
        with self.db.read() as db:
            breakout = store.latest_round(db, session_id=session.id)
            if breakout is None:
                return Refusal(
                    "There are no breakout rooms in this session yet, so there is nothing to "
                    "report back on."
                )
            view = self._view(db, session, breakout)
        facilitator = self.sessions.is_facilitator(user_id, session)
        room = view.room_of(user_id)
        if room is None:
            if not facilitator:
                return Refusal(
                    f"You are not in a room in breakout round {breakout.number}, so there is "
                    "no room for you to report for. A facilitator can move you with "
                    "`/breakout move`."
                )
            room = view.rooms[0]
        return self._form(view, room, facilitator)

    def report_form_for_room(self, room_id: int, user_id: str) -> ReportForm | Refusal:
        """The Report back button: the form for that room, if the person may report for it."""
        with self.db.read() as db:
            room = store.get_room(db, room_id=room_id)
            if room is None:
                return Refusal("That button is not from a breakout room.")
            session = store.session_of_round(db, round_id=room.round_id)
            breakout = store.get_round(db, round_id=room.round_id)
            assert session is not None
            assert breakout is not None
            view = self._view(db, session, breakout)
        if session.ended_at is not None:
            return Refusal(
                f"“{escape_mrkdwn(session.title)}” has ended, so report-backs are closed."
            )
        room_view = view.room_by_id(room_id)
        assert room_view is not None
        facilitator = self.sessions.is_facilitator(user_id, session)
        if not facilitator and user_id not in room_view.user_ids:
            mine = view.room_of(user_id)
            where = (
                f"You are in Room {mine.number}: use the *Report back* button on its message."
                if mine
                else "You are not in a room in this round."
            )
            return Refusal(
                f"Only people in Room {room_view.number} can report back for it. {where}"
            )
        return self._form(view, room_view, facilitator)

    def _form(self, view: RoundView, room: RoomView, facilitator: bool) -> ReportForm:
        assert view.session.id is not None
        assert room.room.id is not None
        with self.db.read() as db:
            themes = store.session_themes(db, session_id=view.session.id)
            latest = store.latest_report(db, room_id=room.room.id)
            content = self._content(db, latest) if latest else None
        return ReportForm(view, room, facilitator, themes, content)

    def _content(self, db: Session, report: ReportBack) -> ReportContent:
        assert report.id is not None
        return ReportContent(
            report=report,
            quotes=store.report_quotes(db, report_id=report.id),
            themes=store.report_themes(db, report_id=report.id),
        )

    def submit_report(
        self,
        *,
        room_id: int,
        user_id: str,
        answers: ReportAnswers,
        delivery_key: str | None,
    ) -> ReportSaved | FormErrors | Duplicate:
        """Save a new version of a room's report-back; committed before the caller is told."""
        with self.db.read() as db:
            room = store.get_room(db, room_id=room_id)
            session = store.session_of_round(db, round_id=room.round_id) if room else None
        if room is None or session is None or session.id is None:
            return FormErrors({FIELD_SUMMARY: "This form is out of date: that room is gone."})
        if session.ended_at is not None:
            return FormErrors({FIELD_SUMMARY: "The session has ended, so report-backs are closed."})
        facilitator = self.sessions.is_facilitator(user_id, session)
        if facilitator and answers.room_id is not None:
            chosen = self._chosen_room(answers.room_id, room)
            if isinstance(chosen, FormErrors):
                return chosen
            room = chosen
        assert room.id is not None
        with self.db.read() as db:
            themes = store.session_themes(db, session_id=session.id)
            member = store.membership(db, round_id=room.round_id, user_id=user_id)
        if not facilitator and (member is None or member.room_id != room.id):
            where = "You are not in a room in this round."
            if member is not None:
                with self.db.read() as db:
                    own = store.get_room(db, room_id=member.room_id)
                where = f"You are in Room {own.number if own else '?'} now."
            return FormErrors(
                {FIELD_SUMMARY: f"Only people in Room {room.number} can report for it. {where}"}
            )
        clean = validate_report(answers, themes)
        if isinstance(clean, FormErrors):
            return clean
        now = self.clock.now()
        try:
            with self.db.transaction() as db:
                repo.record_delivery(db, key=delivery_key, now=now)
                added = store.ensure_themes(
                    db, session_id=session.id, names=clean.new_themes, now=now
                )
                report = store.add_report(
                    db,
                    room_id=room.id,
                    submitted_by=user_id,
                    now=now,
                    summary=clean.summary,
                    key_points=clean.key_points,
                    quotes=clean.quotes,
                    theme_ids=[*clean.theme_ids, *(t.id for t in added if t.id is not None)],
                )
                content = self._content(db, report)
        except repo.DuplicateDelivery:
            return Duplicate()
        view = self.round_view(room.round_id)
        assert view is not None
        room_view = view.room_by_id(room.id)
        assert room_view is not None
        return ReportSaved(view, room_view, content)

    def _chosen_room(self, value: str, default: BreakoutRoom) -> BreakoutRoom | FormErrors:
        """The room a facilitator picked; it must be in the same round as the form's room."""
        if not value.isdigit() or len(value) > 18:
            return FormErrors({FIELD_ROOM: "Pick a room from the list."})
        with self.db.read() as db:
            chosen = store.get_room(db, room_id=int(value))
        if chosen is None or chosen.round_id != default.round_id:
            return FormErrors({FIELD_ROOM: "Pick a room from the list."})
        return chosen

    def report_versions(self, room_id: int) -> list[ReportContent]:
        """Every version of a room's report-back, oldest first."""
        with self.db.read() as db:
            return [self._content(db, r) for r in store.report_versions(db, room_id=room_id)]
