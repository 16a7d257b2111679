"""What `/next` accepts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.parsing import CommandSpec, UsageError, parse, split_subcommand

NEXT_USAGE = "/next | /next skip | /next help"
NEXT_EXAMPLE = "/next"
NEXT_SPEC = CommandSpec(name="/next", usage=NEXT_USAGE, example=NEXT_EXAMPLE)


@dataclass(frozen=True)
class NextHelp:
    """`/next help`."""


@dataclass(frozen=True)
class NextRequest:
    """`/next` or `/next skip`."""

    skip: bool


def parse_next_command(text: str) -> NextRequest | NextHelp | UsageError:
    """Read the text after `/next`."""
    word, rest = split_subcommand(text)
    if word == "help" or rest.strip().lower() == "help":
        return NextHelp()
    if word not in ("", "skip"):
        return UsageError(
            message=f"`/next` takes nothing, or `skip`; not “{word[:40]}”.",
            usage=NEXT_USAGE,
            example=NEXT_EXAMPLE,
        )
    parsed = parse(NEXT_SPEC, rest)
    if isinstance(parsed, UsageError):
        return parsed
    return NextRequest(skip=word == "skip")
