"""What running a run sheet owes Slack: the talk announcements and each facilitator's controls."""

from __future__ import annotations

from bot.outbox import PUBLIC, REPLY, Effect
from bot.sessions import session_target

TALK = "runsheet.talk"  # "Now: <talk>" in the session's channel
CONTROLS = "runsheet.controls"  # a facilitator's control message (a direct message), kept current


def runsheet_keys(session_id: int) -> str:
    """What every key of a session's run sheet effects starts with."""
    return f"runsheet:{session_id}:"


def talk_post(session_id: int, position: int) -> Effect:
    """Announce the talk at `position` in the session's channel (in order with its other posts)."""
    return Effect(
        key=f"runsheet:{session_id}:talk:{position}",
        kind=TALK,
        target=session_target(session_id),
        priority=PUBLIC,
        args={"session_id": session_id, "position": position},
    )


def controls(session_id: int, user_id: str, *, revision: str) -> Effect:
    """Show `user_id` the session's agenda as it is when sent, with Next and Skip.

    Args:
        revision: what changed ("0" at the start, the position after each step, "end"); a
            later revision queued for the same person makes an unsent one needless.
    """
    return Effect(
        key=f"runsheet:{session_id}:controls:{user_id}:{revision}",
        kind=CONTROLS,
        target=f"dm:{user_id}",
        priority=REPLY,
        args={"session_id": session_id, "user_id": user_id},
    )
