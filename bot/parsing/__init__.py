"""One generic parser for the text of every slash command.

`specs` says what a command accepts and what parsing yields, `tokens` splits the text into words
and quoted strings, `flags` converts flag values, `commands` parses text against a spec,
`durations` reads and writes durations and `mrkdwn` handles Slack's escaping.
"""

from bot.parsing.commands import parse
from bot.parsing.durations import format_duration, parse_duration
from bot.parsing.mrkdwn import escape_mrkdwn, unescape_slack
from bot.parsing.specs import CommandSpec, FlagSpec, Parsed, UsageError
from bot.parsing.specs import FlagKind as FlagKind
from bot.parsing.specs import FlagValue as FlagValue
from bot.parsing.tokens import Token, split_subcommand, tokenize

__all__ = [
    "CommandSpec",
    "FlagSpec",
    "Parsed",
    "Token",
    "UsageError",
    "escape_mrkdwn",
    "format_duration",
    "parse",
    "parse_duration",
    "split_subcommand",
    "tokenize",
    "unescape_slack",
]
