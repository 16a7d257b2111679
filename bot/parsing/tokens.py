"""Splitting command text into words and quoted strings, and recognising flags among them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.parsing.mrkdwn import unescape_slack
from bot.parsing.specs import UsageError

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


@dataclass(frozen=True)
class Token:
    """One word or quoted string from a command's text."""

    value: str
    quoted: bool


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
