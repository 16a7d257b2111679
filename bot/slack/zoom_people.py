"""What Zoom presence needs from Slack, sent by the outbox: Slack people's emails (users.info,
with the `users:read.email` scope) to match them to Zoom people, and the facilitators' one
notice that Zoom gives no live presence on the account's plan."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.kinds import Kind, Progress
from bot.slack.sender import OutboxSender
from bot.views.zoom import render_presence_unavailable
from bot.zoom.presence import ZoomPresence
from bot.zoom.presence_effects import PRESENCE_UNAVAILABLE, SLACK_EMAILS
from storage.outbox import Pending

logger = logging.getLogger(__name__)


def register_zoom_people_effects(
    sender: OutboxSender, *, client: WebClient, presence: ZoomPresence
) -> None:
    """Say how the sender carries out each kind of Zoom presence effect."""
    people = SlackZoomPeople(client, presence)
    sender.register(
        SLACK_EMAILS,
        Kind(send=people.look_up_email, refused=people.no_email, method="users.info"),
    )
    sender.register(PRESENCE_UNAVAILABLE, Kind(send=people.tell_no_presence))


def profile_email(user: Any) -> str | None:
    """The email in a users.info user object (absent without `users:read.email`, and for bots)."""
    profile = user.get("profile") if isinstance(user, dict) else None
    email = profile.get("email") if isinstance(profile, dict) else None
    return email if isinstance(email, str) and email.strip() else None


class SlackZoomPeople:
    """Sends Zoom presence effects with the bot's one Web API client."""

    def __init__(self, client: WebClient, presence: ZoomPresence) -> None:
        self.client = client
        self.presence = presence

    def look_up_email(self, row: Pending, progress: Progress) -> bool:
        """Ask Slack for a checked-in person's email, keep it, and match them to Zoom."""
        user_id = row.str_arg("user_id")
        session_id = row.int_arg("session_id")
        if not user_id:
            return False
        if not self.presence.email_wanted(user_id):
            # Looked up meanwhile (another session's look-up): only the linking is left.
            self.presence.link_known_email(session_id=session_id, user_id=user_id)
            return False
        answer = self.client.users_info(user=user_id)
        email = profile_email(answer.get("user"))
        self.presence.slack_email_found(session_id=session_id, user_id=user_id, email=email)
        return True

    def no_email(self, row: Pending, error: SlackApiError) -> None:
        """Slack will not say (no such user, no scope): remember that for a while."""
        user_id = row.str_arg("user_id")
        logger.warning("users.info for %s refused: %s", user_id, error.response.get("error"))
        if user_id:
            self.presence.slack_email_found(
                session_id=row.int_arg("session_id"), user_id=user_id, email=None
            )

    def tell_no_presence(self, row: Pending, progress: Progress) -> bool:
        """Tell each of the session's facilitators, in a direct message (it reaches them
        wherever they are), that live presence needs another plan or HTTP mode."""
        session, facilitators = self.presence.facilitators(row.int_arg("session_id"))
        if session is None:
            return False
        text = render_presence_unavailable(session.title)
        for user_id in facilitators:
            step = f"told {user_id}"
            if progress.get(step):
                continue  # told before a retry
            self.client.chat_postMessage(channel=user_id, text=text)
            progress.done(step)
        return True
