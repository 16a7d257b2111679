"""One generic parser for the text of every slash command."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

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

FlagKind = Literal["str", "int", "duration", "bool", "choice"]
FlagValue = str | int | bool | timedelta

# Straight, smart (macOS/iOS/Slack autocorrect), German low-9 and full-width quotes. Any opener
# may be closed by any closer because edited text often ends up mixing the two styles.
_OPEN_QUOTES = frozenset('"“”„＂')
_CLOSE_QUOTES = frozenset('"“”＂')
# Slack and macOS turn a typed "--" into an em or en dash, so all three count as flag dashes.
_DASHES = frozenset("-—–")
# Invisible characters that sneak in via copy and paste; splitting on them beats an "unknown flag"
# error for "--time\u200b". ZWJ (U+200D) is deliberately absent: emoji sequences depend on it.
_EXTRA_SPACE = frozenset("\u200b\u2060\ufeff")
_SHORTEN_AT = 40
# Python refuses int() on strings over 4,300 digits; anything past this is out of range anyway.
_MAX_DIGITS = 18
_MAX_DURATION_SECONDS = int(timedelta.max.total_seconds())

_DURATION_RE = re.compile(
    r"""
    (?:(?P<h>\d+)\s*(?:h|hrs?|hours?))?\s*
    (?:(?P<m>\d+)\s*(?:m|mins?|minutes?))?\s*
    (?:(?P<s>\d+)\s*(?:s|secs?|seconds?))?
    """,
    re.IGNORECASE | re.VERBOSE,
)


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


@dataclass(frozen=True)
class Token:
    """One word or quoted string from a command's text."""

    value: str
    quoted: bool


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of &, < and > in command text."""
    # &amp; last, so a user's literal "&lt;" (sent as "&amp;lt;") stays "&lt;".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape_mrkdwn(text: str) -> str:
    """Escape &, < and > so Slack shows them as text rather than markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _is_space(ch: str) -> bool:
    """Whether ch separates tokens (str.isspace covers tabs, newlines and no-break spaces)."""
    return ch.isspace() or ch in _EXTRA_SPACE


def _show(text: str) -> str:
    """Quote user text for a message: whitespace collapsed, long text shortened with …."""
    flat = " ".join(text.split())
    if len(flat) > _SHORTEN_AT:
        flat = flat[: _SHORTEN_AT - 1].rstrip() + "…"
    return f"“{flat}”"


def _dash_prefix_length(word: str) -> int:
    """How many leading characters of a bare word make it a flag (0 if it is not a flag)."""
    run = 0
    while run < len(word) and word[run] in _DASHES:
        run += 1
    if run == 0:
        return 0
    if run == 1 and word[0] == "-":
        # "-5" and "-" are text; "-time" is a one-dash slip for --time.
        return 1 if len(word) > 1 and word[1].isalpha() else 0
    return run


def _read_quoted(text: str, start: int) -> tuple[str, int] | None:
    """Read a quoted string whose opening quote is at start; (value, index after it) or None."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in _OPEN_QUOTES:
            chars.append(text[i + 1])
            i += 2
            continue
        if ch in _CLOSE_QUOTES:
            return "".join(chars), i + 1
        chars.append(ch)
        i += 1
    return None


def _tokenize(text: str) -> list[Token] | str:
    """Split already-unescaped text into tokens, or return an error message."""
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if _is_space(ch):
            i += 1
            continue
        if ch in _OPEN_QUOTES:
            got = _read_quoted(text, i)
            if got is None:
                return (
                    f"Unbalanced quotes: the text starting at {_show(text[i:])} "
                    "has no closing quote."
                )
            value, i = got
            tokens.append(Token(value, quoted=True))
            continue
        start = i
        while i < n and not _is_space(text[i]):
            i += 1
        word = text[start:i]
        prefix = _dash_prefix_length(word)
        eq = word.find("=")
        value_at = start + eq + 1
        # --area="Durham city": the quoted value belongs to the flag, spaces and all.
        if prefix and eq > prefix and value_at < n and text[value_at] in _OPEN_QUOTES:
            got = _read_quoted(text, value_at)
            if got is None:
                return (
                    f"Unbalanced quotes: the text starting at {_show(text[value_at:])} "
                    "has no closing quote."
                )
            value, i = got
            word = text[start:value_at] + value
        tokens.append(Token(word, quoted=False))
    return tokens


def tokenize(text: str, *, usage: str = "", example: str = "") -> list[Token] | UsageError:
    """Split Slack command text into words and quoted strings."""
    result = _tokenize(unescape_slack(text))
    if isinstance(result, str):
        return UsageError(result, usage, example)
    return result


def split_subcommand(text: str) -> tuple[str, str]:
    """Split off a leading bare word, lower-cased, from the rest of the raw text."""
    stripped = text.strip()
    end = 0
    while (
        end < len(stripped) and not _is_space(stripped[end]) and stripped[end] not in _OPEN_QUOTES
    ):
        end += 1
    word = stripped[:end]
    # A flag or a quoted string in first place means there is no subcommand.
    if not word or word[0] in _DASHES:
        return "", stripped
    return word.lower(), stripped[end:].strip()


def _duration_seconds(text: str) -> int | None:
    """Total seconds written in text (may be huge), or None if it is not a duration."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None or not any(match.group(k) for k in ("h", "m", "s")):
        return None
    total = 0
    for key, scale in (("h", 3600), ("m", 60), ("s", 1)):
        digits = match.group(key)
        if digits:
            digits = digits.lstrip("0") or "0"
            if len(digits) > _MAX_DIGITS:
                return _MAX_DURATION_SECONDS + 1
            total += int(digits) * scale
    return total


def parse_duration(text: str) -> timedelta | None:
    """Parse 45s, 2m, 1m30s, 1h, 1h30m and similar; None for anything else or too large."""
    seconds = _duration_seconds(text)
    if seconds is None or seconds > _MAX_DURATION_SECONDS:
        return None
    return timedelta(seconds=seconds)


def format_duration(td: timedelta) -> str:
    """Write a timedelta compactly, e.g. 1m30s, 2m, 1h; the inverse of parse_duration."""
    total = td.days * 86400 + td.seconds
    if total < 0:
        return "-" + format_duration(-td)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (seconds, "s")) if v]
    return "".join(parts) or "0s"


def _join_and(items: list[str]) -> str:
    """Join items as English prose: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _show_bound(value: int | timedelta) -> str:
    """Format a bound for messages: ints with thousands separators, durations compactly."""
    if isinstance(value, timedelta):
        return format_duration(value)
    return f"{value:,}"


def _bounds_text(low: int | timedelta | None, high: int | timedelta | None) -> str | None:
    """'between X and Y', 'at least X' or 'at most Y'; None when unbounded."""
    if low is not None and high is not None:
        return f"between {_show_bound(low)} and {_show_bound(high)}"
    if low is not None:
        return f"at least {_show_bound(low)}"
    if high is not None:
        return f"at most {_show_bound(high)}"
    return None


def _int_in_bounds(value: int, spec: FlagSpec) -> bool:
    """Whether value lies within an int flag's inclusive bounds."""
    low, high = spec.min_value, spec.max_value
    if isinstance(low, int) and value < low:
        return False
    return not (isinstance(high, int) and value > high)


def _duration_in_bounds(value: timedelta, spec: FlagSpec) -> bool:
    """Whether value lies within a duration flag's inclusive bounds."""
    low, high = spec.min_value, spec.max_value
    if isinstance(low, timedelta) and value < low:
        return False
    return not (isinstance(high, timedelta) and value > high)


class _Err(str):
    """An error message travelling through a str-typed return (distinguishable from values)."""

    __slots__ = ()


def _check_length(what: str, value: str, limit: int | None) -> str | None:
    """An error message if value is longer than limit."""
    if limit is not None and len(value) > limit:
        return f"{what} is {len(value):,} characters long; the limit is {limit:,}."
    return None


def _convert(spec: FlagSpec, raw: str) -> FlagValue | _Err:
    """Convert a flag's text to its value, or return an error message."""
    text = raw.strip()
    flag = spec.display
    if spec.kind == "str":
        if not text:
            return _Err(f"The {flag} value is empty.")
        too_long = _check_length(f"The {flag} value", text, spec.max_length)
        return _Err(too_long) if too_long else text
    if spec.kind == "int":
        if not text or not text.isdecimal():
            return _Err(f"The {flag} value must be a whole number, like 5; got {_show(raw)}.")
        digits = text.lstrip("0") or "0"
        bounds = _bounds_text(spec.min_value, spec.max_value)
        if len(digits) > _MAX_DIGITS:
            if spec.max_value is not None:
                return _Err(f"{flag} must be {bounds}; got {_show(raw)}.")
            return _Err(f"The {flag} value {_show(raw)} is too large.")
        number = int(digits)
        if not _int_in_bounds(number, spec):
            return _Err(f"{flag} must be {bounds}; got {number:,}.")
        return number
    if spec.kind == "duration":
        seconds = _duration_seconds(text)
        if seconds is None:
            if text.isdecimal() and len(text) <= 6:
                hint = f"add a unit, like {text}s or {text}m"
            else:
                hint = "use forms like 45s, 2m, 1m30s or 1h"
            return _Err(f"Unrecognised duration {_show(raw)} for {flag}: {hint}.")
        bounds = _bounds_text(spec.min_value, spec.max_value)
        if seconds > _MAX_DURATION_SECONDS:
            if spec.max_value is not None:
                return _Err(f"Duration for {flag} must be {bounds}; got {_show(raw)}.")
            return _Err(f"The {flag} duration {_show(raw)} is too long.")
        duration = timedelta(seconds=seconds)
        if not _duration_in_bounds(duration, spec):
            return _Err(f"Duration for {flag} must be {bounds}; got {format_duration(duration)}.")
        return duration
    if spec.kind == "choice":
        return _convert_choice(spec, raw, text)
    # Bool flags never reach here: they take no value.
    return True


def _convert_choice(spec: FlagSpec, raw: str, text: str) -> str | _Err:
    """Match text against the flag's choices, case-insensitively."""
    options = ", ".join(c + "…" if c.endswith(":") else c for c in spec.choices)
    if not text:
        return _Err(f"The {spec.display} value is empty: choose one of {options}.")
    lowered = text.lower()
    plain = [c.lower() for c in spec.choices if not c.endswith(":")]
    prefixed = [c.lower() for c in spec.choices if c.endswith(":")]
    if lowered in plain:
        return lowered
    for prefix in prefixed:
        if lowered.startswith(prefix):
            suffix = lowered[len(prefix) :].strip()
            if not suffix:
                return _Err(_needs_suffix(spec, prefix))
            return prefix + suffix
    if lowered + ":" in prefixed:
        return _Err(_needs_suffix(spec, lowered + ":"))
    candidates = plain + prefixed + [p[:-1] for p in prefixed]
    close = difflib.get_close_matches(lowered, candidates, n=1, cutoff=0.6)
    hint = ""
    if close:
        best = close[0]
        hint = f" Did you mean {best + '…' if best + ':' in prefixed else best}?"
    return _Err(f"Unknown value {_show(raw)} for {spec.display}: choose one of {options}.{hint}")


def _needs_suffix(spec: FlagSpec, prefix: str) -> str:
    """The message for a prefix choice such as "mix:" written without its value."""
    return (
        f"The {spec.display} choice {_show(prefix)} needs a value right after the colon, "
        "with no space."
    )


@dataclass
class _Positional:
    """A positional argument plus what the error messages need to know about it."""

    value: str
    quoted: bool
    # The flag whose bare value this word directly follows, e.g. "Durham city" after --area.
    after_flag: FlagSpec | None = None
    flag_words: list[str] = field(default_factory=list)


def _name_for(spec: CommandSpec, index: int) -> str:
    """The name of the positional at index, for messages."""
    names = spec.positional_names
    if not names:
        return "text"
    return names[min(index, len(names) - 1)]


def _missing_message(spec: CommandSpec, count: int) -> str:
    """Say which positionals are missing when only count were given."""
    names = spec.positional_names
    phrases: list[str] = []
    if spec.max_positionals is None and names:
        # The last name repeats (e.g. poll options), so talk about how many more are needed.
        fixed, tail = names[:-1], names[-1]
        phrases.extend(
            f"the {fixed[i]}" for i in range(count, min(len(fixed), spec.min_positionals))
        )
        need = spec.min_positionals - len(fixed)
        got = max(0, count - len(fixed))
        if got < need:
            if need == 1:
                phrases.append(f"the {tail}")
            elif got:
                more = need - got
                phrases.append(f"{more} more {tail}" + ("s" if more > 1 else ""))
            else:
                phrases.append(f"at least {need} {tail}s")
    else:
        phrases.extend(f"the {_name_for(spec, i)}" for i in range(count, spec.min_positionals))
    return f"Missing {_join_and(phrases)}."


def _extra_message(spec: CommandSpec, positionals: list[_Positional]) -> str:
    """Say what was unexpected when too many positionals were given."""
    limit = spec.max_positionals or 0
    extra = positionals[limit]
    head = f"Unexpected {_show(extra.value)}."
    if extra.after_flag is not None:
        joined = " ".join(extra.flag_words)
        flag = extra.after_flag.display
        return f'{head} If it is part of the {flag} value, quote it: {flag} "{_short(joined)}".'
    if limit == 0:
        return f"{head} {spec.name} takes no text, only flags."
    name = _name_for(spec, 0)
    if limit == 1:
        free = [p for p in positionals if p.after_flag is None]
        if not free[0].quoted and not extra.quoted:
            joined = " ".join(p.value for p in free if not p.quoted)
            return f'{head} Put the {name} in double quotes: "{_short(joined)}".'
        return f"{head} {spec.name} takes only the {name}; put all of it inside one pair of quotes."
    names = _join_and([_name_for(spec, i) for i in range(limit)])
    return (
        f"{head} {spec.name} takes at most {limit} values ({names}); "
        "put text with spaces in double quotes."
    )


def _short(text: str) -> str:
    """Shorten text for an example inside a message."""
    return _show(text)[1:-1]


def parse(spec: CommandSpec, text: str) -> Parsed | UsageError:
    """Parse Slack command text against spec; never raises for any text."""

    def fail(message: str) -> UsageError:
        return UsageError(message, spec.usage, spec.example)

    tokens = _tokenize(unescape_slack(text))
    if isinstance(tokens, str):
        return fail(tokens)

    by_name = {f.name: f for f in spec.flags}
    flags: dict[str, FlagValue] = {}
    positionals: list[_Positional] = []
    # The flag whose unquoted value was just read, and the words since: for "quote it" hints.
    chain: tuple[FlagSpec, list[str]] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not _is_flag(token):
            if chain is not None and not token.quoted:
                # Shared list, so a hint quotes every word that followed the flag.
                chain[1].append(token.value)
                positionals.append(_Positional(token.value, False, chain[0], chain[1]))
            else:
                chain = None
                positionals.append(_Positional(token.value, token.quoted))
            continue
        chain = None
        prefix = _dash_prefix_length(token.value)
        body = token.value[prefix:]
        name, has_eq, inline = body.partition("=")
        written = token.value[: prefix + len(name)]
        key = name.lower().replace("_", "-")
        if not key:
            return fail(
                f"Found {_show(token.value)} with no flag name after the dashes; "
                "put text that starts with a dash in double quotes."
            )
        flag = by_name.get(key)
        if flag is None:
            return fail(_unknown_flag_message(spec, written, key))
        if flag.name in flags:
            return fail(f"The flag {flag.display} was given twice.")
        if flag.kind == "bool":
            if has_eq:
                return fail(
                    f"The flag {flag.display} takes no value; remove {_show('=' + inline)}."
                )
            flags[flag.name] = True
            continue
        if has_eq and not inline.strip():
            return fail(_needs_value(flag))
        value: str | None = inline if has_eq else None
        value_quoted = False
        # Tolerate "--area = Durham" and "--area =Durham".
        if value is None and i < len(tokens) and _starts_with_equals(tokens[i]):
            rest = tokens[i].value[1:]
            i += 1
            value = rest or None
        if value is None and i < len(tokens) and not _is_flag(tokens[i]):
            value, value_quoted = tokens[i].value, tokens[i].quoted
            i += 1
        if value is None:
            return fail(_needs_value(flag))
        converted = _convert(flag, value)
        if isinstance(converted, _Err):
            return fail(str(converted))
        flags[flag.name] = converted
        if not value_quoted:
            chain = (flag, [value])

    limit = spec.max_positionals
    if limit is not None and len(positionals) > limit:
        return fail(_extra_message(spec, positionals))
    values: list[str] = []
    for index, positional in enumerate(positionals):
        name = _name_for(spec, index)
        value = positional.value.strip()
        if not value:
            return fail(f"The {name} is empty.")
        too_long = _check_length(f"The {name}", value, spec.positional_max_length)
        if too_long:
            return fail(too_long)
        values.append(value)
    if len(values) < spec.min_positionals:
        return fail(_missing_message(spec, len(values)))
    return Parsed(tuple(values), flags)


def _is_flag(token: Token) -> bool:
    """Whether token is written as a flag (quoted text never is)."""
    return not token.quoted and _dash_prefix_length(token.value) > 0


def _starts_with_equals(token: Token) -> bool:
    """Whether token is the detached "=" or "=value" of a preceding flag."""
    return not token.quoted and token.value.startswith("=")


def _needs_value(flag: FlagSpec) -> str:
    """The message for a flag written without its value."""
    return f"The flag {flag.display} needs a value: {flag.display} {flag.placeholder}."


def _unknown_flag_message(spec: CommandSpec, written: str, key: str) -> str:
    """Name the unknown flag, suggest the nearest valid one, and list them all."""
    if not spec.flags:
        return (
            f"Unknown flag {_show(written)}: {spec.name} takes no flags. "
            "Put text that starts with a dash in double quotes."
        )
    names = [f.name for f in spec.flags]
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f" Did you mean --{close[0]}?" if close else ""
    valid = ", ".join(f"--{n}" for n in names)
    return f"Unknown flag {_show(written)}.{hint} Valid flags: {valid}."
