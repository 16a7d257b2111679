"""What Zoom polls post to Slack, sent by the outbox: notes in a poll's thread, and the poll's
results shown again once Zoom's answers are merged (its closed message edited in place, then
"Zoom answers added: n" in its thread)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.polls import PollService
from bot.slack.kinds import Kind, Progress, is_uneditable
from bot.slack.sender import OutboxSender
from bot.views.common import as_dicts
from bot.views.polls import render_poll_message
from bot.views.zoom_polls import render_zoom_answers_added, render_zoom_note
from bot.zoom_polls.effects import ZOOM_POLL_NOTE, ZOOM_POLL_RESULTS
from bot.zoom_polls.service import ZoomPolls
from storage.outbox import Pending

STEP_MESSAGE, STEP_THREAD = "message", "thread"


def register_zoom_poll_effects(
    sender: OutboxSender, *, client: WebClient, polls: PollService, zoom_polls: ZoomPolls
) -> None:
    """Say how the outbox sends Zoom polls' notes and merged results."""
    messages = ZoomPollMessages(client, polls, zoom_polls)
    sender.register(ZOOM_POLL_NOTE, Kind(send=messages.note))
    sender.register(ZOOM_POLL_RESULTS, Kind(send=messages.results))


class ZoomPollMessages:
    """The senders, with the Web API client and the services they read through."""

    def __init__(self, client: WebClient, polls: PollService, zoom_polls: ZoomPolls) -> None:
        self.client = client
        self.polls = polls
        self.zoom_polls = zoom_polls

    def note(self, row: Pending, progress: Progress) -> bool:
        """A line in the poll's thread about its Zoom side."""
        poll_id = row.int_arg("poll_id")
        state = self.polls.state(poll_id)
        zoom = self.zoom_polls.zoom_side(poll_id)
        if state is None or zoom is None or not state.poll.message_ts:
            return False  # the poll was undone (its message never posted)
        self.client.chat_postMessage(
            channel=state.poll.channel_id,
            thread_ts=state.poll.message_ts,
            text=render_zoom_note(row.str_arg("what") or "", zoom),
        )
        return True

    def results(self, row: Pending, progress: Progress) -> bool:
        """The closed poll's message shown again with Zoom's answers, then the thread told."""
        state = self.polls.state(row.int_arg("poll_id"))
        ts = state.poll.message_ts if state is not None else None
        if state is None or state.zoom is None or not ts:
            return False
        poll = state.poll
        if state.closed and not progress.get(STEP_MESSAGE):
            text, blocks = render_poll_message(state)
            try:
                self.client.chat_update(
                    channel=poll.channel_id, ts=ts, text=text, blocks=as_dicts(blocks)
                )
            except SlackApiError as error:
                if not is_uneditable(error):  # gone: the thread still gets the news
                    raise
            progress.done(STEP_MESSAGE)
        if not progress.get(STEP_THREAD):
            self.client.chat_postMessage(
                channel=poll.channel_id,
                thread_ts=ts,
                text=render_zoom_answers_added(state),
            )
            progress.done(STEP_THREAD)
        return True
