"""What summaries owe Slack: the final summary of an ended session, interim ones on request.

Both go to the session's target, so they come after everything the session posted before them.
The final summary's key, kind, target and args are also written by migration 0005 for sessions
that ended before the outbox existed: keep them as they are.
"""

from __future__ import annotations

from uuid import uuid4

from bot.outbox import BULK, PUBLIC, Effect
from bot.sessions import session_target

SUMMARY_FINAL = "summary.final"
SUMMARY_INTERIM = "summary.interim"
SUMMARY_EDIT = "summary.edit"
SUMMARY_QUOTE_WITHDRAWN = "summary.quote_withdrawn"


def final_summary(session_id: int) -> Effect:
    """Post an ended session's summary to its channel and the organisers' (once per session)."""
    return Effect(
        key=f"session:{session_id}:summary",
        kind=SUMMARY_FINAL,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id},
    )


def interim_summary(session_id: int, *, delivery_key: str | None) -> Effect:
    """Post a running session's summary as it is when sent (once per `/summary`)."""
    # One per command: a redelivery has the same key; without one, nothing can be recognised.
    request = delivery_key or uuid4().hex
    return Effect(
        key=f"session:{session_id}:interim:{request}",
        kind=SUMMARY_INTERIM,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id},
    )


def summary_edit(session_id: int) -> Effect:
    """Show an ended session's final summary again as it is now, edited in place where it was
    posted (after results arrived late, such as a poll's Zoom answers). One per change."""
    return Effect(
        key=f"session:{session_id}:summary:edit:{uuid4().hex}",
        kind=SUMMARY_EDIT,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id},
    )


def summaries_without_quote(session_id: int, quote_id: int) -> Effect:
    """A quote withdrawn: every summary of the session already posted (final and interim, in
    every channel, every part) is edited in place, rendered without it. Once per withdrawal."""
    return Effect(
        key=f"session:{session_id}:quote:{quote_id}:withdrawn",
        kind=SUMMARY_QUOTE_WITHDRAWN,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id, "quote_id": quote_id},
    )


def summaries_shown_again(session_id: int, *, change: str) -> Effect:
    """Every summary of the session already posted (final and interim, every channel, every
    part) shown again after `change` (unique per change: an erasure rewrote a text they
    showed), edited in place as a withdrawn quote's are."""
    return Effect(
        key=f"session:{session_id}:{change}:summaries",
        kind=SUMMARY_QUOTE_WITHDRAWN,
        target=session_target(session_id),
        priority=BULK,
        args={"session_id": session_id},
    )
