"""Posts about a session's Zoom meeting: what the lookup found, and Zoom's outages."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.sessions import SessionService
from bot.slack.kinds import Kind, Progress
from bot.slack.sender import OutboxSender
from bot.views.common import as_dicts
from bot.views.zoom_meeting import render_zoom_back, render_zoom_down, render_zoom_meeting
from bot.zoom.health import ZOOM_BACK, ZOOM_DOWN, ZoomHealth
from bot.zoom.service import ZOOM_MEETING, ZoomMeetings
from storage.outbox import Pending


def register_zoom_meeting_effects(
    sender: OutboxSender,
    *,
    client: WebClient,
    sessions: SessionService,
    meetings: ZoomMeetings,
    health: ZoomHealth | None,
) -> None:
    """Say how the sender posts the Zoom meeting's effects."""
    posts = ZoomMeetingPosts(client, sessions, meetings, health)
    sender.register(ZOOM_MEETING, Kind(send=posts.post_meeting))
    sender.register(ZOOM_DOWN, Kind(send=posts.warn_facilitators))
    sender.register(ZOOM_BACK, Kind(send=posts.warn_facilitators))


class ZoomMeetingPosts:
    """Renders and sends the Zoom meeting's posts."""

    def __init__(
        self,
        client: WebClient,
        sessions: SessionService,
        meetings: ZoomMeetings,
        health: ZoomHealth | None,
    ) -> None:
        self.client = client
        self.sessions = sessions
        self.meetings = meetings
        self.health = health

    def post_meeting(self, row: Pending, progress: Progress) -> bool:
        """Tell the channel what the Zoom lookup found."""
        session = self.sessions.get(row.int_arg("session_id"))
        meeting = self.meetings.meeting(row.int_arg("session_id"))
        if session is None or meeting is None:
            return False
        text, blocks = render_zoom_meeting(meeting)
        self.client.chat_postMessage(channel=session.channel_id, text=text, blocks=as_dicts(blocks))
        return True

    def warn_facilitators(self, row: Pending, progress: Progress) -> bool:
        """Tell each facilitator, privately in the channel, that Zoom is down (or back)."""
        session = self.sessions.get(row.int_arg("session_id"))
        meeting = self.meetings.meeting(row.int_arg("session_id"))
        if session is None or meeting is None or session.ended_at is not None:
            return False
        if row.kind == ZOOM_DOWN:
            error = self.health.last_error if self.health else None
            text, blocks = render_zoom_down(meeting, error)
        else:
            text, blocks = render_zoom_back(meeting)
        sent = False
        for user_id in self.sessions.facilitators(session):
            if progress.get(f"told {user_id}"):
                continue
            self.client.chat_postEphemeral(
                channel=session.channel_id, user=user_id, text=text, blocks=as_dicts(blocks)
            )
            progress.done(f"told {user_id}")
            sent = True
        return sent
