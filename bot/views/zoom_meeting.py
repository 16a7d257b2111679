"""What the channel and the facilitators are told about a session's Zoom meeting."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.views.common import context, esc, section, slack_date
from bot.zoom.meetings import format_meeting_id
from storage.zoom.meetings import ZoomMeeting


def _meeting_name(meeting: ZoomMeeting) -> str:
    return f"Zoom meeting {format_meeting_id(meeting.meeting_id)}"


def render_zoom_meeting(meeting: ZoomMeeting) -> tuple[str, list[Block]]:
    """The channel post once the lookup is done: the meeting found, or why the session runs
    without Zoom."""
    name = _meeting_name(meeting)
    if meeting.problem:
        text = f"{name}: {esc(meeting.problem, 500)}. This session runs in Slack only."
        blocks: list[Block] = [
            section(f":warning: *{name}*: {esc(meeting.problem, 500)}."),
            context(
                "This session runs in Slack only. Check the meeting ID or join URL and start "
                "the next session with `--zoom <meeting id or join URL>`."
            ),
        ]
        return text, blocks
    topic = esc(meeting.topic or "(no topic)", 200)
    when = f", starts {slack_date(meeting.start_time)}" if meeting.start_time else ""
    text = f"{name}: {topic}{when}."
    return text, [
        section(f":movie_camera: *{name}*: “{topic}”{when}."),
        context(
            "People in the Zoom meeting count in this session: presence, breakout rooms and "
            "polls with `--zoom`."
        ),
    ]


def render_zoom_down(meeting: ZoomMeeting, error: str | None) -> tuple[str, list[Block]]:
    """The facilitators' one warning of an outage."""
    name = _meeting_name(meeting)
    text = f"Zoom is not answering: the session carries on in Slack only ({name})."
    detail = f" Last error: {esc(error, 300)}." if error else ""
    return text, [
        section(
            f":warning: *Zoom is not answering.* The session carries on in Slack only: polls, "
            f"rooms and check-in work as usual, and the bot keeps trying Zoom.{detail}"
        ),
        context(f"{name}. You will get one notice when Zoom answers again."),
    ]


def render_zoom_back(meeting: ZoomMeeting) -> tuple[str, list[Block]]:
    """The facilitators' notice that Zoom answers again."""
    name = _meeting_name(meeting)
    text = f"Zoom is answering again ({name})."
    return text, [
        section(
            ":white_check_mark: *Zoom is answering again.* What was owed to Zoom while it was "
            "down is being sent now."
        ),
        context(name),
    ]


def zoom_status_lines(meeting: ZoomMeeting | None, *, down: bool) -> list[str]:
    """`/session status` lines for the session's Zoom meeting."""
    if meeting is None:
        return []
    name = _meeting_name(meeting)
    if meeting.problem:
        return [f"*Zoom:* {name} — {esc(meeting.problem, 300)}; Slack only."]
    if meeting.looked_up_at is None:
        state = "being looked up"
    elif meeting.ended_at is not None:
        state = "the meeting has ended"
    elif meeting.started_at is not None:
        state = "the meeting is live"
    else:
        state = "not started yet"
    topic = f" “{esc(meeting.topic, 120)}”" if meeting.topic else ""
    line = f"*Zoom:* {name}{topic} — {state}"
    if down or meeting.down_since is not None:
        line += " — :warning: Zoom is not answering (Slack only meanwhile)"
    return [line + "."]
