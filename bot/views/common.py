"""Small helpers every view uses: escaping, trimming, dates, errors, ids read back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.parsing import UsageError, escape_mrkdwn
from storage.models import BY_THE_BOT
from storage.privacy.tables import ERASED_SHOWN, is_erased, shown_erased

SECTION_TEXT_MAX = 3000
MAX_BLOCKS = 50
ELLIPSIS = "…"
# The tail of an escape such as &amp; cut in half.
_PARTIAL_ESCAPE = re.compile(r"&[a-z]{0,3}$")


def trim(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a visible "…" when it was cut (an erased
    person's token in it reads as their mentions do)."""
    text = shown_erased(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def esc(text: str | None, limit: int | None = None) -> str:
    """User text made safe for mrkdwn (no pings, no fake links), optionally trimmed first."""
    value = text or ""
    return escape_mrkdwn(trim(value, limit) if limit else shown_erased(value))


def slack_date(moment: datetime, token: str = "{date_short_pretty} at {time}") -> str:
    """A `<!date^…>` that every reader sees in their own time zone, with a UTC fallback."""
    epoch = int(moment.timestamp())
    fallback = moment.strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{epoch}^{token}|{fallback}>"


def mention(user_id: str) -> str:
    """A user mention; an erased person's token names nobody, and the bot is "the bot"."""
    if is_erased(user_id):
        return ERASED_SHOWN
    if user_id == BY_THE_BOT:
        return "the bot"
    return f"<@{user_id}>"


def section(text: str) -> SectionBlock:
    """A mrkdwn section, trimmed to Slack's 3,000 characters."""
    return SectionBlock(text=MarkdownTextObject(text=trim(text, SECTION_TEXT_MAX)))


def context(text: str) -> ContextBlock:
    """A one-line mrkdwn context block."""
    return ContextBlock(elements=[MarkdownTextObject(text=trim(text, SECTION_TEXT_MAX))])


def counted_lines(counts: Sequence[tuple[str, int | str]], *, limit: int = 12) -> str:
    """`• value — n` lines for a tally, the long tail folded into "and N more".

    A count that is text is a hidden row's (bot.report.small_groups: "fewer than 5"), shown as it
    is; a folded tail holding one gives no head count (it would give the hidden one away).
    """
    if not counts:
        return "_nobody yet_"
    lines = [f"• {esc(name, 60)} — {count}" for name, count in counts[:limit]]
    rest = counts[limit:]
    if rest:
        folded = [count for _, count in rest]
        ints = [count for count in folded if isinstance(count, int)]
        people = "" if len(ints) < len(folded) else f" ({sum(ints)} people)"
        lines.append(f"• _and {len(rest)} more{people}_")
    return "\n".join(lines)


def parse_id(value: object) -> int | None:
    """An id carried in a button value or private_metadata; None if it was tampered with."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def render_usage_error(error: UsageError) -> list[Block]:
    """An ephemeral error that says what was wrong and what to type instead."""
    return [section(error.render())]


def as_dicts(blocks: Sequence[Block]) -> list[dict[str, object]]:
    """Blocks as JSON-ready dicts (for ack bodies and Web API calls)."""
    return [block.to_dict() for block in blocks]


def split_mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Cut mrkdwn into pieces of at most `limit` characters, at line or word ends if possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
            # Never split an escape such as &amp; (Slack would show half of it).
            if tail := _PARTIAL_ESCAPE.search(text, max(0, cut - 4), cut):
                cut = tail.start()
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [piece for piece in pieces if piece]


def pack_lines(lines: Sequence[str], limit: int = SECTION_TEXT_MAX) -> list[str]:
    """Join lines into as few texts of at most `limit` characters as possible."""
    packed: list[str] = []
    for line in lines:
        if packed and len(packed[-1]) + 1 + len(line) <= limit:
            packed[-1] += "\n" + line
        else:
            packed.extend(split_mrkdwn(line, limit))
    return packed


def input_state(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    """One input's state in a submitted view's `state.values` ({} when absent or malformed)."""
    state = values.get(block, {}).get(action, {})
    return state if isinstance(state, dict) else {}


def render_not_posted(code: str, what: str, undone: str) -> str:
    """Why a command's message could not be posted, what was undone, and how to fix it.

    Args:
        code: Slack's error, e.g. "not_in_channel".
        what: what was being posted, e.g. " the poll" ("" for the channel's first post).
        undone: what that means, e.g. "it was not launched".
    """
    return (
        f":warning: I couldn't post{what} in this channel (`{esc(code, 80)}`), so {undone}. "
        "Invite me with `/invite @listening-bot` and try again."
    )
