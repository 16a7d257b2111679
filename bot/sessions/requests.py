"""What `/session` and the check-in form accept, read into typed requests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.parsing import CommandSpec, FlagSpec, Parsed, UsageError, parse, split_subcommand
from bot.zoom.meetings import parse_meeting_id
from storage.models import ATTRIBUTE_MAX, TITLE_MAX
from storage.runsheets import NAME_MAX

# As run sheets name themselves (bot.runsheets checks the files; this only reads the flag).
RUNSHEET_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
ROLE_MAX = 75  # a role is offered back as a select option, whose text holds 75 characters

START_SPEC = CommandSpec(
    name="/session start",
    usage='/session start "<title>" [--area "<place>"] [--group "<group type>"] '
    "[--zoom <meeting id or join URL>] [--runsheet <name>]",
    example='/session start "Durham listening session" --area Durham --group CLP '
    "--zoom https://zoom.us/j/81234567890 --runsheet labour-listening-tour",
    flags=(
        FlagSpec("area", "str", metavar='"<place>"', max_length=ATTRIBUTE_MAX),
        FlagSpec("group", "str", metavar='"<group type>"', max_length=ATTRIBUTE_MAX),
        FlagSpec("zoom", "str", metavar="<meeting id or join URL>", max_length=500),
        FlagSpec("runsheet", "str", metavar="<name>", max_length=NAME_MAX),
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


@dataclass(frozen=True)
class SessionHelp:
    """`/session help`, `/session <subcommand> help` or a bare `/session`."""


@dataclass(frozen=True)
class StartRequest:
    """A validated `/session start`."""

    title: str
    area: str | None
    group_type: str | None
    zoom_meeting_id: str | None
    runsheet: str | None = None  # the name of a stored run sheet (its newest version)


@dataclass(frozen=True)
class StatusRequest:
    """A validated `/session status`."""


@dataclass(frozen=True)
class EndRequest:
    """A validated `/session end`."""


SessionCommand = SessionHelp | StartRequest | StatusRequest | EndRequest | UsageError


@dataclass(frozen=True)
class CheckInAnswers:
    """What a participant submitted in the check-in form."""

    role: str | None
    place: str | None
    group_name: str | None
    consent_to_quote: bool


@dataclass(frozen=True)
class PickRole:
    """A role picked on the session message (one of the roles it offers)."""

    role: str


@dataclass(frozen=True)
class PickPlace:
    """A place picked on the session message (one of the places it offers)."""

    place: str


@dataclass(frozen=True)
class ToggleConsent:
    """The session message's "Quote me": quote consent switched (it starts as no)."""


# One click on the session message: what it changes in the person's check-in.
CheckInChoice = PickRole | PickPlace | ToggleConsent


def parse_session_command(text: str) -> SessionCommand:
    """Read the text after `/session` into the request it makes, or what is wrong with it."""
    subcommand, rest = split_subcommand(text)
    if subcommand in ("", "help") or rest.strip().lower() == "help":
        return SessionHelp()
    spec = SUBCOMMANDS.get(subcommand)
    if spec is None:
        return UsageError(
            message=f"Unknown subcommand “{subcommand[:40]}”. Use start, status, end or help.",
            usage=SESSION_USAGE,
            example=SESSION_EXAMPLE,
        )
    if spec is START_SPEC:
        return parse_start_text(rest)
    parsed = parse(spec, rest)
    if isinstance(parsed, UsageError):
        return parsed
    return StatusRequest() if spec is STATUS_SPEC else EndRequest()


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
    runsheet = parsed.str_flag("runsheet")
    if runsheet is not None and not RUNSHEET_NAME.fullmatch(runsheet):
        return UsageError(
            message=f"--runsheet takes the name of a stored run sheet (lower-case letters, "
            f"digits and dashes, like labour-listening-tour), not “{runsheet[:40]}”. "
            "`listening-bot runsheet list` shows them.",
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
        runsheet=runsheet,
    )


def parse_start_text(text: str) -> StartRequest | UsageError:
    """Parse the text after `/session start`."""
    parsed = parse(START_SPEC, _quote_spaced_meeting_id(text))
    return parsed if isinstance(parsed, UsageError) else parse_start(parsed)


# A meeting ID typed as Zoom shows it, "812 3456 7890", is one value, quoted or not.
_SPACED_MEETING_ID = re.compile(r"((?:--|—|–)zoom\s+)(\d{3,4}(?:[ -]\d{3,4}){1,3})(?=\s|$)")


def _quote_spaced_meeting_id(text: str) -> str:
    return _SPACED_MEETING_ID.sub(lambda m: f'{m.group(1)}"{m.group(2)}"', text)


def clean_answer(value: str | None, limit: int) -> str | None:
    """A form answer stripped, empty meaning not given, cut to the column's size."""
    if value is None:
        return None
    value = " ".join(value.split())
    return value[:limit] or None
