"""What polls post to Slack, sent by the outbox: the poll message, live tallies, the final
results and chart, the voters' confirmations, and a closed poll's message edited after an
erasure.

Each sender reads the poll from the database when it sends (so what goes out is current),
renders it with `bot.views.polls`, calls the Web API and records what it learnt (a message ts,
that the results are out). Retries, pacing and order are the outbox sender's.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.charts import bar_chart_png
from bot.polls import (
    LIVE_UPDATE_INTERVAL,
    LIVE_UPDATE_SPACING,
    POLL_EDIT,
    POLL_FINAL,
    POLL_LIVE,
    POLL_POST,
    POLL_VOTED,
    POLL_VOTED_ANONYMOUS,
    PollService,
    PollState,
    VoteRecorded,
)
from bot.polls.effects import chosen_indexes
from bot.privacy.notice import PrivacyNotice
from bot.slack.kinds import NOT_LOADED, Kind, Pace, Progress, edit_in_place, is_uneditable
from bot.slack.private import answer_privately, tell_requester
from bot.slack.sender import OutboxSender
from bot.views.common import as_dicts, render_not_posted, trim
from bot.views.polls import (
    chart_note,
    render_chart_comment,
    render_poll_message,
    render_vote_confirmation,
)
from storage.outbox import Pending

logger = logging.getLogger(__name__)

Blocks = list[dict[str, object]]
# The steps of the final results, saved as they are done so a retry does not repeat them.
STEP_MESSAGE, STEP_CHART = "message", "chart"


def register_poll_effects(
    sender: OutboxSender,
    *,
    client: WebClient,
    polls: PollService,
    privacy: PrivacyNotice | None = None,
) -> None:
    """Say how the outbox sends every kind of poll effect."""
    messages = PollMessages(client, polls, privacy or PrivacyNotice())
    sender.register(POLL_POST, Kind(send=messages.post, refused=messages.post_refused))
    sender.register(
        POLL_LIVE,
        Kind(
            send=messages.live,
            pace=Pace(interval=LIVE_UPDATE_INTERVAL, spacing=LIVE_UPDATE_SPACING),
        ),
    )
    sender.register(POLL_FINAL, Kind(send=messages.final))
    sender.register(POLL_EDIT, Kind(send=messages.edit))
    sender.register(
        POLL_VOTED,
        Kind(send=messages.confirm, load=messages.confirmations, replaced_by=_same_poll),
    )
    # Deleted once sent: it names the voter next to an anonymous choice.
    sender.register(
        POLL_VOTED_ANONYMOUS,
        Kind(send=messages.confirm, load=messages.confirmations, forget=True),
    )


class PollMessages:
    """The poll senders, with the Web API client and the poll service they read through."""

    def __init__(self, client: WebClient, polls: PollService, privacy: PrivacyNotice) -> None:
        self.client = client
        self.polls = polls
        self.privacy = privacy

    def post(self, row: Pending, progress: Progress) -> bool:
        """Post a launched poll's message and remember where it is."""
        state = self.polls.state(row.int_arg("poll_id"))
        if state is None or state.poll.message_ts:
            return False  # discarded, or posted already
        text, blocks = render_poll_message(state)
        posted = self.client.chat_postMessage(
            channel=state.poll.channel_id, text=text, blocks=as_dicts(blocks)
        )
        self.polls.set_message(state.id, str(posted["ts"]))
        return True

    def post_refused(self, row: Pending, error: SlackApiError) -> None:
        """Slack will not post the poll: nobody could vote, so it is undone and the
        facilitator told how to fix it (they may simply launch it again)."""
        self.polls.discard(row.int_arg("poll_id"))
        message = render_not_posted(
            str(error.response.get("error") or "unknown_error"), " the poll", "it was not launched"
        )
        # A form has no response_url: the facilitator then gets a direct message.
        tell_requester(self.client, row, user_id=row.str_arg("user_id"), text=message)

    def live(self, row: Pending, progress: Progress) -> bool:
        """Put the current tally on an open poll's message (nothing once it has closed)."""
        state = self.polls.state(row.int_arg("poll_id"))
        if state is None or state.closed or not state.poll.message_ts:
            return False
        text, blocks = render_poll_message(state)
        self.client.chat_update(
            channel=state.poll.channel_id,
            ts=state.poll.message_ts,
            text=text,
            blocks=as_dicts(blocks),
        )
        return True

    def final(self, row: Pending, progress: Progress) -> bool:
        """Final results on the poll's message, then the chart in its thread, then noted."""
        poll_id = row.int_arg("poll_id")
        state = self.polls.state(poll_id)
        if state is None or not state.closed or state.poll.announced_at is not None:
            return False
        ts = progress.get(STEP_MESSAGE)
        if ts is None:
            ts = self._show_final(state)
            progress.done(STEP_MESSAGE, ts)
        if not progress.get(STEP_CHART):
            self._upload_chart(state, ts)
            progress.done(STEP_CHART)
        self.polls.mark_announced(poll_id)
        return True

    def edit(self, row: Pending, progress: Progress) -> bool:
        """Show a closed poll's message again as it is now (who closed it was erased, or a text
        it shows was rewritten): the message only; the chart and the thread's results are not
        posted again. An open poll's is its live tally's (bot.privacy.edits queues one)."""
        state = self.polls.state(row.int_arg("poll_id"))
        if state is None or not state.closed or not state.poll.message_ts:
            return False  # open polls show their closer nobody; unposted ones show it when sent
        text, blocks = render_poll_message(state)
        return edit_in_place(
            self.client,
            channel=state.poll.channel_id,
            ts=state.poll.message_ts,
            text=text,
            blocks=as_dicts(blocks),
        )

    def _show_final(self, state: PollState) -> str:
        """Edit the poll's message to show the results, or post them anew if it is gone."""
        poll = state.poll
        text, blocks = render_poll_message(state)
        if poll.message_ts:
            try:
                self.client.chat_update(
                    channel=poll.channel_id, ts=poll.message_ts, text=text, blocks=as_dicts(blocks)
                )
                return poll.message_ts
            except SlackApiError as error:
                # A message Slack no longer lets us edit: the results are posted anew.
                if not is_uneditable(error):
                    raise
        posted = self.client.chat_postMessage(
            channel=poll.channel_id, text=text, blocks=as_dicts(blocks)
        )
        ts = str(posted["ts"])
        self.polls.set_message(state.id, ts)
        return ts

    def _upload_chart(self, state: PollState, thread_ts: str) -> None:
        poll = state.poll
        combined = state.combined
        chart = bar_chart_png(
            poll.question,
            state.options,
            combined.counts,
            total=combined.voters,
            percents=state.percents(),
            note=chart_note(state),
        )
        self.client.files_upload_v2(
            channel=poll.channel_id,
            thread_ts=thread_ts,
            file=chart,
            filename=f"poll-{state.id}-results.png",
            title=trim(f"Results: {poll.question}", 250),
            alt_txt=trim(f"Bar chart of the results of the poll: {poll.question}", 1000),
            initial_comment=render_chart_comment(state),
        )

    def confirmations(self, rows: Sequence[Pending]) -> list[VoteRecorded | None]:
        """What each of these voters' confirmations says now, read in one go."""
        return self.polls.confirmations([_vote_of(row) for row in rows])

    def confirm(self, row: Pending, progress: Progress) -> bool:
        """Tell a voter, privately in the poll's channel, what their vote is now."""
        user_id = row.str_arg("user_id") or ""
        result = progress.loaded
        if result is NOT_LOADED:
            result = self.confirmations([row])[0]
        if result is None:
            return False
        text, blocks = _confirmation(result, self.privacy)
        answer_privately(
            self.client,
            row,
            progress,
            channel=result.channel_id,
            user_id=user_id,
            text=text,
            blocks=blocks,
        )
        return True


def _same_poll(row: Pending, later: Pending) -> bool:
    """A voter's later confirmation in the same poll says all an unsent earlier one would: both
    show the vote as it is when sent. (Anonymous votes cannot change, so they have one each.)"""
    return later.kind == POLL_VOTED and later.args.get("poll_id") == row.args.get("poll_id")


def _vote_of(row: Pending) -> tuple[int, str, tuple[int, ...] | None]:
    """A confirmation row's poll, voter and (anonymous polls only) the choice it holds."""
    anonymous = row.kind == POLL_VOTED_ANONYMOUS
    return (
        row.int_arg("poll_id"),
        row.str_arg("user_id") or "",
        chosen_indexes(row.str_arg("chosen")) if anonymous else None,
    )


@functools.lru_cache(maxsize=4096)
def _confirmation(result: VoteRecorded, privacy: PrivacyNotice) -> tuple[str, Blocks | None]:
    """A vote's confirmation, ready to send.

    Hundreds of voters get the same few confirmations (they depend on the poll, the choice and
    whether the voter has checked in), so each is rendered, and its Block Kit validated, once.
    Blocks only when there is a button to show; otherwise the text says it all.
    """
    text, blocks = render_vote_confirmation(result, privacy)
    return text, as_dicts(blocks) if not result.checked_in else None
