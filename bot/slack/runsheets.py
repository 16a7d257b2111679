"""What running a run sheet posts, sent by the outbox: talks, and each facilitator's controls.

A control message is a direct message from the bot (an ephemeral one cannot be edited): posted
once per facilitator and session, then edited in place with chat.update as the session moves.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.runsheets.effects import CONTROLS, TALK
from bot.runsheets.running import Agenda
from bot.slack.kinds import Kind, Progress
from bot.slack.sender import OutboxSender
from bot.views.common import as_dicts
from bot.views.runsheets import render_controls, render_talk
from storage.outbox import Pending

logger = logging.getLogger(__name__)

# chat.update's answers meaning the message is not there to edit any more: post a new one.
_GONE = frozenset({"message_not_found", "cant_update_message", "channel_not_found"})


def register_runsheet_effects(sender: OutboxSender, *, client: WebClient, agenda: Agenda) -> None:
    """Say how the sender posts each kind of run sheet effect."""
    messages = SlackRunSheetMessages(client, agenda)
    sender.register(TALK, Kind(send=messages.announce_talk, method="chat.postMessage"))
    sender.register(CONTROLS, Kind(send=messages.show_controls, replaced_by=_same_controls))


def _same_controls(row: Pending, later: Pending) -> bool:
    """A control message queued later for the same session and person shows at least as much."""
    return later.kind == CONTROLS and later.args.get("session_id") == row.args.get("session_id")


class SlackRunSheetMessages:
    """Sends run sheet effects with the bot's one Web API client."""

    def __init__(self, client: WebClient, agenda: Agenda) -> None:
        self.client = client
        self.agenda = agenda

    def announce_talk(self, row: Pending, progress: Progress) -> bool:
        """ "Now: <talk>" in the session's channel."""
        agenda = self.agenda.view_of(row.int_arg("session_id"))
        position = row.int_arg("position")
        if agenda is None or position >= len(agenda.steps):
            return False
        text, blocks = render_talk(agenda, position)
        self.client.chat_postMessage(
            channel=agenda.session.channel_id, text=text, blocks=as_dicts(blocks)
        )
        return True

    def show_controls(self, row: Pending, progress: Progress) -> bool:
        """Post a facilitator's control message, or bring the one posted before up to date."""
        session_id, user_id = row.int_arg("session_id"), row.str_arg("user_id")
        agenda = self.agenda.view_of(session_id)
        if agenda is None or not user_id:
            return False
        text, blocks = render_controls(agenda)
        where = self.agenda.controls_at(session_id, user_id)
        if where is not None:
            try:
                self.client.chat_update(
                    channel=where[0], ts=where[1], text=text, blocks=as_dicts(blocks)
                )
                return True
            except SlackApiError as error:
                if str(error.response.get("error")) not in _GONE:
                    raise
                logger.info("control message for %s is gone; posting a new one", user_id)
        posted = self.client.chat_postMessage(channel=user_id, text=text, blocks=as_dicts(blocks))
        self.agenda.set_controls(session_id, user_id, str(posted["channel"]), str(posted["ts"]))
        return True
