"""What `/summary` accepts, read into a typed request."""

from __future__ import annotations

from dataclasses import dataclass

from bot.parsing import CommandSpec, UsageError, parse, split_subcommand

SUMMARY_SPEC = CommandSpec(name="/summary", usage="/summary", example="/summary")


@dataclass(frozen=True)
class SummaryHelp:
    """`/summary help`."""


@dataclass(frozen=True)
class InterimSummaryRequest:
    """A validated `/summary`: post an interim summary of the channel's session."""


SummaryCommand = SummaryHelp | InterimSummaryRequest | UsageError


def parse_summary_command(text: str) -> SummaryCommand:
    """Read the text after `/summary` into the request it makes, or what is wrong with it."""
    subcommand, _ = split_subcommand(text)
    if subcommand == "help":
        return SummaryHelp()
    parsed = parse(SUMMARY_SPEC, text)
    return parsed if isinstance(parsed, UsageError) else InterimSummaryRequest()
