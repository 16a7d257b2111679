"""What a session posts to Slack, sent by the outbox: its message, the end, check-in replies, and
the edits of the first two when someone they name is erased.

Each sender reads the session as it is now, so a message sent late is still current.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.privacy.notice import PrivacyNotice
from bot.sessions import (
    CHECK_IN_NOTED,
    CHECKED_IN,
    SESSION_CLOSE,
    SESSION_ENDED,
    SESSION_ENDED_EDIT,
    SESSION_POST,
    SESSION_REFRESH,
    SessionService,
)
from bot.slack.kinds import Kind, Progress, edit_in_place
from bot.slack.private import answer_privately, tell_requester
from bot.slack.sender import OutboxSender
from bot.views.common import as_dicts, render_not_posted
from bot.views.sessions import (
    render_check_in_noted,
    render_checked_in,
    render_session_ended,
    render_session_message,
)
from storage.outbox import Pending

logger = logging.getLogger(__name__)


def register_session_effects(
    sender: OutboxSender,
    *,
    client: WebClient,
    sessions: SessionService,
    privacy: PrivacyNotice | None = None,
) -> None:
    """Say how the sender posts each kind of session effect."""
    messages = SlackSessionMessages(client, sessions, privacy or PrivacyNotice())
    sender.register(
        SESSION_POST, Kind(send=messages.post_session_message, refused=messages.undo_start)
    )
    # The end and an erasure's refresh both show the message as it is when sent.
    sender.register(SESSION_CLOSE, Kind(send=messages.show_session_message))
    sender.register(SESSION_REFRESH, Kind(send=messages.show_session_message))
    sender.register(SESSION_ENDED, Kind(send=messages.announce_end))
    sender.register(SESSION_ENDED_EDIT, Kind(send=messages.edit_end))
    sender.register(
        CHECKED_IN, Kind(send=messages.confirm_check_in, replaced_by=_same_session_reply)
    )
    sender.register(
        CHECK_IN_NOTED, Kind(send=messages.confirm_noted, replaced_by=_same_session_reply)
    )


def _same_session_reply(row: Pending, later: Pending) -> bool:
    """A check-in reply is needless when a later one for the same session and person is queued:
    each says the check-in as it is when sent (a burst of "Quote me" clicks gets one answer)."""
    return later.kind in (CHECKED_IN, CHECK_IN_NOTED) and later.args.get("session_id") == (
        row.args.get("session_id")
    )


class SlackSessionMessages:
    """Sends a session's effects with the bot's one Web API client."""

    def __init__(self, client: WebClient, sessions: SessionService, privacy: PrivacyNotice) -> None:
        self.client = client
        self.sessions = sessions
        self.privacy = privacy

    def post_session_message(self, row: Pending, progress: Progress) -> bool:
        """Post a new session's message (with its check-in row) and remember where it is."""
        session = self.sessions.get(row.int_arg("session_id"))
        if session is None or session.id is None or session.message_ts:
            return False  # discarded, or already posted before a restart
        choices = self.sessions.check_in_choices(session)
        text, blocks = render_session_message(self.sessions.view(session), choices, self.privacy)
        posted = self.client.chat_postMessage(
            channel=session.channel_id, text=text, blocks=as_dicts(blocks)
        )
        self.sessions.set_message(session.id, str(posted["ts"]))
        return True

    def undo_start(self, row: Pending, error: SlackApiError) -> None:
        """Slack will not take the session's message: without it nobody can check in, so the
        start is undone and the starter told, and they may simply try again."""
        session = self.sessions.discard(row.int_arg("session_id"))
        if session is None:
            return
        code = str(error.response.get("error") or "unknown_error")
        text = render_not_posted(code, "", "the session was not started")
        tell_requester(self.client, row, user_id=session.started_by, text=text)

    def show_session_message(self, row: Pending, progress: Progress) -> bool:
        """Show the session's message as it is now: ended (no more check-in row) after the end,
        or open with its check-in row (a refresh after someone it named was erased)."""
        session = self.sessions.get(row.int_arg("session_id"))
        if session is None or not session.message_ts:
            return False  # its message never got posted
        view = self.sessions.view(session)
        if session.ended_at is None:
            choices = self.sessions.check_in_choices(session)
            text, blocks = render_session_message(view, choices, self.privacy)
        else:
            text, blocks = render_session_message(view)
        return edit_in_place(
            self.client,
            channel=session.channel_id,
            ts=session.message_ts,
            text=text,
            blocks=as_dicts(blocks),
        )

    def announce_end(self, row: Pending, progress: Progress) -> bool:
        """Tell the channel that the session has ended, with its attendance."""
        session = self.sessions.get(row.int_arg("session_id"))
        if session is None or session.id is None or session.ended_at is None:
            return False
        if session.ended_ts:
            return False  # posted just before a restart
        view = self.sessions.view(session)
        text, blocks = render_session_ended(view, self.privacy.min_group)
        posted = self.client.chat_postMessage(
            channel=session.channel_id, text=text, blocks=as_dicts(blocks)
        )
        # Kept so "Ended by" can be edited when that person is erased.
        self.sessions.set_ended_message(session.id, str(posted["ts"]))
        return True

    def edit_end(self, row: Pending, progress: Progress) -> bool:
        """Show the posted "has ended" again as it is now (who ended it was erased)."""
        session = self.sessions.get(row.int_arg("session_id"))
        if session is None or not session.ended_ts:
            return False
        text, blocks = render_session_ended(self.sessions.view(session), self.privacy.min_group)
        return edit_in_place(
            self.client,
            channel=session.channel_id,
            ts=session.ended_ts,
            text=text,
            blocks=as_dicts(blocks),
        )

    def confirm_check_in(self, row: Pending, progress: Progress) -> bool:
        """Tell the participant, privately in the session's channel, what they checked in as."""
        user_id = row.str_arg("user_id")
        checked_in = (
            self.sessions.checked_in(
                session_id=row.int_arg("session_id"),
                user_id=user_id,
                first_time=bool(row.int_arg("first_time")),
            )
            if user_id
            else None
        )
        if checked_in is None:
            return False
        answer_privately(
            self.client,
            row,
            progress,
            channel=checked_in.channel_id,
            user_id=checked_in.participant.user_id,
            text=render_checked_in(checked_in),
        )
        return True

    def confirm_noted(self, row: Pending, progress: Progress) -> bool:
        """Tell a person what their click before checking in kept (nothing once they have
        checked in: that confirmation says it all)."""
        user_id = row.str_arg("user_id")
        noted = (
            self.sessions.noted(session_id=row.int_arg("session_id"), user_id=user_id)
            if user_id
            else None
        )
        if noted is None:
            return False
        answer_privately(
            self.client,
            row,
            progress,
            channel=noted.channel_id,
            user_id=noted.participant.user_id,
            text=render_check_in_noted(noted),
        )
        return True
