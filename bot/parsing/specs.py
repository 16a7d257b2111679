"""What a command accepts (its flags and positionals), what parsing it yields, and its errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from bot.parsing.mrkdwn import escape_mrkdwn

FlagKind = Literal["str", "int", "duration", "bool", "choice"]
FlagValue = str | int | bool | timedelta


@dataclass(frozen=True)
class FlagSpec:
    """One --flag a command accepts."""

    name: str
    kind: FlagKind
    metavar: str = ""
    choices: tuple[str, ...] = ()
    min_value: int | timedelta | None = None
    max_value: int | timedelta | None = None
    max_length: int | None = None

    def __post_init__(self) -> None:
        """Reject specs that could never parse anything (a programming error, not user error)."""
        if not self.name or self.name != self.name.lower() or any(c.isspace() for c in self.name):
            raise ValueError(f"flag name must be lower-case with no spaces: {self.name!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"choice flag --{self.name} needs choices")

    @property
    def display(self) -> str:
        """The flag as users type it, e.g. --time."""
        return f"--{self.name}"

    @property
    def placeholder(self) -> str:
        """The metavar, or a sensible default for messages."""
        if self.metavar:
            return self.metavar
        if self.kind == "int":
            return "<number>"
        if self.kind == "duration":
            return "<duration, e.g. 2m>"
        if self.kind == "choice":
            return "<" + "|".join(c + "…" if c.endswith(":") else c for c in self.choices) + ">"
        return f"<{self.name}>"


@dataclass(frozen=True)
class CommandSpec:
    """What one slash command (or subcommand) accepts."""

    name: str
    usage: str
    example: str
    flags: tuple[FlagSpec, ...] = ()
    positional_names: tuple[str, ...] = ()
    min_positionals: int = 0
    max_positionals: int | None = 0
    positional_max_length: int | None = None

    def __post_init__(self) -> None:
        """Reject contradictory specs early so they fail in tests, not in front of users."""
        names = [f.name for f in self.flags]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.name}: duplicate flag names in {names}")
        if self.max_positionals is not None and self.max_positionals < self.min_positionals:
            raise ValueError(f"{self.name}: max_positionals < min_positionals")

    def flag(self, name: str) -> FlagSpec | None:
        """The flag spec called name, if any."""
        for spec in self.flags:
            if spec.name == name:
                return spec
        return None


@dataclass(frozen=True)
class Parsed:
    """A successfully parsed command: positionals in order and the flags that were given."""

    positionals: tuple[str, ...]
    flags: Mapping[str, FlagValue] = field(default_factory=dict)

    def str_flag(self, name: str) -> str | None:
        """The str or choice flag called name, or None if it was not given."""
        value = self.flags.get(name)
        if value is None or isinstance(value, str):
            return value
        raise TypeError(f"--{name} is not a str flag")

    def int_flag(self, name: str) -> int | None:
        """The int flag called name, or None if it was not given."""
        value = self.flags.get(name)
        # bool is an int subclass; a bool here means the caller asked for the wrong flag.
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise TypeError(f"--{name} is not an int flag")

    def duration_flag(self, name: str) -> timedelta | None:
        """The duration flag called name, or None if it was not given."""
        value = self.flags.get(name)
        if value is None or isinstance(value, timedelta):
            return value
        raise TypeError(f"--{name} is not a duration flag")

    def bool_flag(self, name: str) -> bool:
        """Whether the bool flag called name was given."""
        value = self.flags.get(name, False)
        if isinstance(value, bool):
            return value
        raise TypeError(f"--{name} is not a bool flag")


@dataclass(frozen=True)
class UsageError:
    """What was wrong with a command's text, plus how to use the command."""

    message: str
    usage: str
    example: str

    def render(self) -> str:
        """Slack mrkdwn for an ephemeral reply."""
        lines = [f":warning: {escape_mrkdwn(self.message)}"]
        # Usage strings contain <placeholders>; unescaped, Slack would parse them as links.
        if self.usage:
            lines.append(f"Usage: `{escape_mrkdwn(self.usage)}`")
        if self.example:
            lines.append(f"Example: `{escape_mrkdwn(self.example)}`")
        return "\n".join(lines)
