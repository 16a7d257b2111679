"""What breakout rounds on Zoom owe Slack, as outbox effects: the facilitator's CSV, the list to
paste into Zoom's chat, and Zoom's answer to the pre-assignment.

All go to the facilitator who started the round, as direct messages, in order (one target per
person); their keys start with the round (`round:{id}:…`), so undoing a round forgets them.
"""

from __future__ import annotations

from bot.outbox import REPLY, Effect
from bot.rooms.effects import user_target

ZOOM_CSV = "room.zoom_csv"  # the pre-assignment as Zoom's CSV, uploaded to the facilitator
ZOOM_PASTE = "room.zoom_paste"  # who is in which room, for the facilitator to paste in Zoom
ZOOM_WRITTEN = "room.zoom_written"  # Zoom took the pre-assignment, or why it did not

ZOOM_KINDS = (ZOOM_CSV, ZOOM_PASTE, ZOOM_WRITTEN)


def _to_facilitator(kind: str, step: str, round_id: int, user_id: str) -> Effect:
    return Effect(
        key=f"round:{round_id}:zoom:{step}",
        kind=kind,
        target=user_target(user_id),
        # The facilitator is waiting for it to set up Zoom; never dropped as stale.
        priority=REPLY,
        args={"round_id": round_id, "user_id": user_id},
    )


def zoom_csv(round_id: int, user_id: str) -> Effect:
    """Upload the round's pre-assignment CSV to the facilitator."""
    return _to_facilitator(ZOOM_CSV, "csv", round_id, user_id)


def zoom_paste(round_id: int, user_id: str) -> Effect:
    """Give the facilitator the rooms as a list to paste into Zoom's chat."""
    return _to_facilitator(ZOOM_PASTE, "paste", round_id, user_id)


def zoom_written(round_id: int, user_id: str) -> Effect:
    """Tell the facilitator what Zoom answered to the pre-assignment."""
    return _to_facilitator(ZOOM_WRITTEN, "written", round_id, user_id)
