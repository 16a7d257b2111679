"""What a session owes Slack after a committed change: the kinds, and effects built from ids.

Everything a session posts in its channel shares the target `session:{id}`, so it goes out in
the order it was queued: the session message, its edit on the end, "has ended", the summary.
"""

from __future__ import annotations

from uuid import uuid4

from bot.outbox import BULK, PUBLIC, REPLY, Effect

SESSION_POST = "session.post"  # the session message with its check-in row
SESSION_CLOSE = "session.close"  # the same message shown as ended (no more button)
SESSION_ENDED = "session.ended"  # "🏁 … has ended" with the attendance
SESSION_REFRESH = "session.refresh"  # the session message shown again as it is now (erasure)
SESSION_ENDED_EDIT = "session.ended_edit"  # the posted "has ended" shown again (erasure)
CHECKED_IN = "session.checked_in"  # the participant's private confirmation
CHECK_IN_NOTED = "session.check_in_noted"  # a choice kept until the person picks a role


def session_keys(session_id: int) -> str:
    """What every key of a session's effects starts with."""
    return f"session:{session_id}:"


def session_target(session_id: int) -> str:
    """The target every channel post of a session shares (summaries use it too)."""
    return f"session:{session_id}"


def session_post(session_id: int, *, response_url: str | None) -> Effect:
    """Post a new session's message; `response_url` is where a refusal is explained."""
    return Effect(
        key=f"session:{session_id}:post",
        kind=SESSION_POST,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id},
        response_url=response_url,
    )


def session_close(session_id: int) -> Effect:
    """Show an ended session's message as ended."""
    return Effect(
        key=f"session:{session_id}:close",
        kind=SESSION_CLOSE,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id},
    )


def session_ended(session_id: int) -> Effect:
    """Tell the channel that the session has ended."""
    return Effect(
        key=f"session:{session_id}:ended",
        kind=SESSION_ENDED,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id},
    )


def session_refresh(session_id: int, *, change: str) -> Effect:
    """Show the session's message again as it is now, open or ended, after `change` (unique per
    change: someone it named was erased, so it goes in bulk)."""
    return Effect(
        key=f"session:{session_id}:{change}:refresh",
        kind=SESSION_REFRESH,
        target=session_target(session_id),
        priority=BULK,
        args={"session_id": session_id},
    )


def session_ended_edit(session_id: int, *, change: str) -> Effect:
    """Show the posted "has ended" again after `change` (unique per change: who ended the
    session was erased)."""
    return Effect(
        key=f"session:{session_id}:{change}:ended",
        kind=SESSION_ENDED_EDIT,
        target=session_target(session_id),
        priority=BULK,
        args={"session_id": session_id},
    )


def checked_in(
    *,
    session_id: int,
    user_id: str,
    first_time: bool,
    delivery_key: str | None,
    response_url: str | None = None,
) -> Effect:
    """Confirm a check-in to the participant, privately (one per submitted form or click that
    changed something), through the click's `response_url` where it had one."""
    # Each submission is its own effect; without a delivery key no retry can be recognised.
    submission = delivery_key or uuid4().hex
    return Effect(
        key=f"session:{session_id}:check-in:{submission}",
        kind=CHECKED_IN,
        target=f"user:{user_id}",
        priority=REPLY,
        args={"session_id": session_id, "user_id": user_id, "first_time": int(first_time)},
        private=True,
        response_url=response_url,
    )


def check_in_noted(
    *, session_id: int, user_id: str, delivery_key: str | None, response_url: str | None
) -> Effect:
    """Tell a person what was kept from their click, and that picking a role checks them in."""
    submission = delivery_key or uuid4().hex
    return Effect(
        key=f"session:{session_id}:noted:{submission}",
        kind=CHECK_IN_NOTED,
        target=f"user:{user_id}",
        priority=REPLY,
        args={"session_id": session_id, "user_id": user_id},
        private=True,
        response_url=response_url,
    )
