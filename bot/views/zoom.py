"""What the bot says about a session's Zoom people: `/session status` lines, and the notice
that live presence needs another Zoom plan."""

from __future__ import annotations

from bot.views.common import esc
from storage.zoom.people import FROM_METRICS, FROM_WEBHOOKS, PresenceCounts

_SOURCES = {FROM_WEBHOOKS: "Zoom's webhooks", FROM_METRICS: "Zoom's live participant list"}
NO_LIVE_PRESENCE = (
    "live participants need a Zoom Business plan (or more), or the bot in HTTP mode "
    "(`listening-bot serve`) with Zoom's webhooks"
)


def presence_status_lines(counts: PresenceCounts | None) -> list[str]:
    """Lines for `/session status`: who is in Zoom, in Slack, in both, and where presence comes
    from (no lines for a session without a Zoom meeting)."""
    if counts is None:
        return []
    if counts.source is not None:
        rooms = f" ({counts.in_rooms} in breakout rooms)" if counts.in_rooms else ""
        source = _SOURCES.get(counts.source, counts.source)
        zoom = f"*Zoom presence:* {counts.in_zoom} in the meeting now{rooms} — from {source}."
    elif counts.metrics_refused:
        zoom = f"*Zoom presence:* unknown — {NO_LIVE_PRESENCE}."
    else:
        zoom = "*Zoom presence:* none yet — nobody seen in the meeting so far."
    people = (
        f"*People:* {counts.slack_checked_in} checked in on Slack, {counts.matched} of them "
        f"also in Zoom (matched by email); {counts.zoom_only} Zoom-only."
    )
    return [zoom, people]


def render_presence_unavailable(title: str) -> str:
    """The facilitators' one notice that Zoom will not say who is in the meeting."""
    return (
        f"Zoom will not tell the bot who is in the meeting of “{esc(title, 150)}”: "
        f"{NO_LIVE_PRESENCE}. Everything else works: check-in, polls and breakout rooms "
        "on Slack, and Zoom registrants' answers."
    )
