"""Slack mrkdwn as plain text, text objects read without raising, and wrapping to a width.

The pieces `bot.rehearsal.render` builds its lines from. mrkdwn: mentions, channels, dates and
links become text; `*bold*`, `_italic_` and `~strike~` markers are dropped (the words stay);
`code` and `> quotes` are kept; emoji stay `:shortcodes:`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.parsing import unescape_slack

Names = Callable[[str], str]

LINK_URL_SHOWN_MAX = 40  # a longer url is left out of "label (url)": it only adds noise

_TOKEN = re.compile(r"<([^<>\n]*)>")
# Placeholders for rendered tokens while the markers around them are stripped: private-use
# characters, which are neither word characters nor spaces, so `*<@U1>*` still reads as bold.
_HOLD_OPEN, _HOLD_CLOSE = "\ue000", "\ue001"
_HELD = re.compile(f"{_HOLD_OPEN}(\\d+){_HOLD_CLOSE}")
_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
# Slack's markers only count at word edges, so snake_case and 2*3*4 stay as they are.
_MARKERS = [
    re.compile(rf"(?<![\w{m}])\{m}(?=[^\s{m}])([^{m}\n]*?[^\s{m}])\{m}(?![\w{m}])")
    for m in ("*", "_", "~")
]
_HANGING = re.compile(r"^(\s*(?:[•◦▪‣*-]|\d{1,3}[.)])\s+|\s*>\s?)")


def default_name(user_id: str) -> str:
    """How a user is called when nobody says: their id."""
    return user_id


# -- mrkdwn -------------------------------------------------------------------------------------


def mrkdwn_to_text(text: str, *, names: Names | None = None) -> str:
    """Slack mrkdwn as the plain text a reader sees (see the module docstring for the rules)."""
    if not isinstance(text, str):
        return ""
    name_of = names or default_name
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(token_text(match.group(1), name_of))
        return f"{_HOLD_OPEN}{len(held) - 1}{_HOLD_CLOSE}"

    def hold_code(match: re.Match[str]) -> str:
        held.append(unescape_slack(match.group(0)))
        return f"{_HOLD_OPEN}{len(held) - 1}{_HOLD_CLOSE}"

    text = _TOKEN.sub(hold, text)
    # Code is held too, so markers around it (`*`/x`*`) are seen and those inside are kept.
    text = _CODE.sub(hold_code, text)
    plain = unescape_slack(_strip_markers(text))
    # Twice: a held code span may itself hold a mention or a link.
    for _ in range(2):
        plain = _HELD.sub(lambda m: _release(held, m), plain)
    return plain


def _release(held: list[str], match: re.Match[str]) -> str:
    # A placeholder that was not ours (the private-use characters came in the text) stays.
    index = int(match.group(1))
    return held[index] if index < len(held) else match.group(0)


def _strip_markers(text: str) -> str:
    for marker in _MARKERS:
        text = marker.sub(r"\1", text)
    return text


def token_text(inner: str, name_of: Names) -> str:
    """One `<…>`: a mention, a channel, a special mention, a date or a link."""
    target, _, label = inner.partition("|")
    label = unescape_slack(label)
    if target.startswith("@"):
        return "@" + name_of(target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("date^"):
            return label or epoch_text([*command.split("^"), ""][1])
        if command.startswith("subteam^"):
            return label or "@" + command.removeprefix("subteam^")
        return label or "@" + command
    url = unescape_slack(target)
    shown = url.removeprefix("mailto:")
    if not label or label in (url, shown):
        return shown
    return f"{label} ({shown})" if len(shown) <= LINK_URL_SHOWN_MAX else label


def epoch_text(seconds: str) -> str:
    """Seconds since the epoch as a UTC date, for a date token that brought no fallback."""
    if seconds.isdigit() and len(seconds) < 12:
        return datetime.fromtimestamp(int(seconds), UTC).strftime("%d %b %Y %H:%M UTC")
    return "(a date)"


# -- small readers that never raise ---------------------------------------------------------------


def as_dict(value: object) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    """`value` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_str(value: object) -> str:
    """`value` if it is a string, else ""."""
    return value if isinstance(value, str) else ""


def one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces made single spaces (for a button)."""
    return " ".join(text.split())


def text_of(obj: object, names: Names) -> str:
    """A text object (mrkdwn or plain_text) as text; a bare string counts as plain text."""
    if isinstance(obj, str):
        return obj
    data = as_dict(obj)
    text = as_str(data.get("text"))
    return mrkdwn_to_text(text, names=names) if data.get("type") == "mrkdwn" else text


def kind_of(value: object) -> str:
    """A block's or element's `type` ("unknown" when it has none)."""
    kind = as_str(as_dict(value).get("type"))
    return kind or "unknown"


# -- wrapping -----------------------------------------------------------------------------------


def wrap(text: str, width: int, indent: str = "", hang: str = "") -> list[str]:
    """Text wrapped to `width`, keeping its own line breaks; bullets and quotes hang.

    The first line starts with `indent`, every later one (wrapped or not) with `hang`.
    """
    if not text:
        return []
    hang = hang or indent
    lines: list[str] = []
    in_code = False
    for index, line in enumerate(text.split("\n")):
        first = indent if index == 0 else hang
        fences = line.count("```")
        verbatim = in_code or fences > 0
        in_code ^= fences % 2 == 1
        if verbatim or not line.strip():
            # Code keeps its own layout; fit still cuts a line longer than the screen.
            lines.append((first + line).rstrip())
            continue
        lead = _HANGING.match(line)
        if lead is None:
            more = hang
        elif ">" in lead.group(1):
            more = hang + lead.group(1)  # a wrapped quote line is still quoted
        else:
            more = hang + " " * len(lead.group(1))
        lines.extend(
            textwrap.wrap(
                line,
                width,
                initial_indent=first,
                subsequent_indent=more,
                break_on_hyphens=False,
            )
            or [first.rstrip()]
        )
    return lines


def fit(lines: list[str], width: int) -> list[str]:
    """Every line cut to `width` (a long code line or field), continuing at its indentation."""
    fitted: list[str] = []
    for line in lines:
        line = line.rstrip()
        if len(line) <= width:
            fitted.append(line)
            continue
        indent = " " * min(len(line) - len(line.lstrip()), width // 2)
        fitted.extend(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False))
    return fitted


def pack_inline(tokens: list[str], width: int, indent: str = "") -> list[str]:
    """Inline elements (buttons, menus) side by side, on as many lines as they need."""
    lines: list[str] = []
    for token in tokens:
        if lines and len(lines[-1]) + 2 + len(token) <= width:
            lines[-1] += "  " + token
        else:
            lines.append(indent + token)
    return lines
