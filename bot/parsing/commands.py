"""Parsing a command's text against its spec, with messages that say how to fix it."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from bot.parsing.flags import _check_length, _convert, _Err
from bot.parsing.mrkdwn import unescape_slack
from bot.parsing.specs import CommandSpec, FlagSpec, FlagValue, Parsed, UsageError
from bot.parsing.tokens import Token, _dash_prefix_length, _show, _tokenize


def _join_and(items: list[str]) -> str:
    """Join items as English prose: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


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
