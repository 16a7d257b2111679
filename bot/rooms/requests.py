"""What `/breakout`, `/breakout end`, `/breakout move` and `/report` accept, and their parsing.

The limits here are the command's rules (how many rooms, how long a round); the database's
column sizes are in `storage.rooms` and are at least as large.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bot.assignment import Mode, parse_mode
from bot.parsing import CommandSpec, FlagSpec, Parsed, UsageError, parse

ROOMS_MAX = 100  # one channel message per room; more would flood the channel
SIZE_MAX = 1000
DEFAULT_TIME = timedelta(minutes=15)
MIN_TIME = timedelta(minutes=1)
MAX_TIME = timedelta(hours=3)
SEED_MAX = 2**31 - 1
PROMPT_MAX = 500  # a prompt is read aloud from the room message: a question, not an essay

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


def usage_error(spec: CommandSpec, message: str) -> UsageError:
    """A usage error for `spec`, with its usage line and example."""
    return UsageError(message, spec.usage, spec.example)


def parse_breakout(parsed: Parsed) -> BreakoutRequest | UsageError:
    """Turn parsed `/breakout` arguments into a request."""
    size = parsed.int_flag("size")
    rooms: int | None = None
    if parsed.positionals:
        text = parsed.positionals[0]
        if not text.isdecimal() or len(text) > 6:
            return usage_error(
                BREAKOUT_SPEC,
                f"“{text[:40]}” is not a number of rooms: give a whole number, like "
                "`/breakout 5`, or people per room with `--size 4`.",
            )
        rooms = int(text)
        if rooms < 1:
            return usage_error(BREAKOUT_SPEC, "The number of rooms must be at least 1; got 0.")
        if rooms > ROOMS_MAX:
            return usage_error(
                BREAKOUT_SPEC, f"At most {ROOMS_MAX} rooms at a time; got {rooms:,}."
            )
    if rooms is not None and size is not None:
        return usage_error(
            BREAKOUT_SPEC,
            "Give either a number of rooms or --size (people per room), not both.",
        )
    if rooms is None and size is None:
        return usage_error(
            BREAKOUT_SPEC,
            "Say how many rooms, like `/breakout 5`, or how many people per room, like "
            "`/breakout --size 4`.",
        )
    mode_text = parsed.str_flag("mode")
    try:
        mode = parse_mode(mode_text) if mode_text else Mode()
    except ValueError as error:
        return usage_error(BREAKOUT_SPEC, str(error))
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
        return usage_error(
            MOVE_SPEC,
            f"“{who[:40]}” is not a mention: type @ and pick the person from the list, so "
            "Slack sends who it is.",
        )
    if not room.isdecimal() or len(room) > 6:
        return usage_error(MOVE_SPEC, f"“{room[:40]}” is not a room number: give a number like 3.")
    return MoveRequest(user_id=match.group(1), room_number=int(room))
