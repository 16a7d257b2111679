"""The Zoom meeting's channel post: Zoom's words are escaped in the notification text too."""

from __future__ import annotations

from bot.views.zoom_meeting import render_zoom_meeting
from storage.zoom.meetings import ZoomMeeting


def test_the_topic_is_escaped_in_the_text() -> None:
    meeting = ZoomMeeting(session_id=1, meeting_id="81234567890", topic="Durham <!channel> & co")
    text, _ = render_zoom_meeting(meeting)
    assert "Durham &lt;!channel&gt; &amp; co" in text
    assert "<!channel>" not in text


def test_the_problem_is_escaped_in_the_text() -> None:
    meeting = ZoomMeeting(session_id=1, meeting_id="81234567890", problem="bad <@U1> id")
    text, _ = render_zoom_meeting(meeting)
    assert "bad &lt;@U1&gt; id" in text
    assert "<@U1>" not in text
