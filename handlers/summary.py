"""`/summary` and posting session summaries to the session channel and SUMMARY_CHANNEL."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.app import Services
from bot.charts import bar_chart_png
from bot.parsing import CommandSpec, UsageError, parse, split_subcommand
from bot.sessions import Refusal
from bot.summary import SessionSummary
from bot.views.common import as_dicts, section
from bot.views.summary import render_summary
from handlers.middleware import DELIVERY_KEY
from handlers.replies import ack_refusal, ack_usage

logger = logging.getLogger(__name__)

SUMMARY_SPEC = CommandSpec(name="/summary", usage="/summary", example="/summary")
CHARTS_PER_UPLOAD = 10  # files_upload_v2 takes at most ten files at once


class SlackSummaryPublisher:
    """Posts a summary (messages, then the poll charts) to the channels it belongs in."""

    def __init__(self, client: WebClient, summary_channel: str | None) -> None:
        self.client = client
        self.summary_channel = summary_channel

    def channels(self, summary: SessionSummary) -> list[str]:
        """The session's channel, and the organisers' channel when set."""
        return list(
            dict.fromkeys(c for c in (summary.session.channel_id, self.summary_channel) if c)
        )

    def publish_to(self, summary: SessionSummary, channel: str) -> None:
        """Post every message of the summary to `channel`, then its charts in the thread."""
        first_ts: str | None = None
        for text, blocks in render_summary(summary):
            posted = self.client.chat_postMessage(
                channel=channel, text=text, blocks=as_dicts(blocks), unfurl_links=False
            )
            first_ts = first_ts or str(posted["ts"])
        try:
            self._upload_charts(summary, channel, first_ts)
        except Exception:
            # The summary itself is out; a missing chart must not make us post it again.
            logger.exception("charts of session %s not uploaded to %s", summary.session.id, channel)

    def _upload_charts(self, summary: SessionSummary, channel: str, thread_ts: str | None) -> None:
        charts = [
            {
                "content": bar_chart_png(
                    item.poll.question,
                    [share.label for share in item.result.shares],
                    [share.count for share in item.result.shares],
                    total=item.result.n,
                    percents=[share.percent for share in item.result.shares],
                    note=f"of {item.result.n:,} who voted",
                ),
                "filename": f"poll-{item.poll.id}.png",
                "title": item.poll.question[:250],
            }
            for item in summary.polls
            if item.result.n and not item.poll.hidden
        ]
        for start in range(0, len(charts), CHARTS_PER_UPLOAD):
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file_uploads=charts[start : start + CHARTS_PER_UPLOAD],
                initial_comment="Charts of this session's polls",
            )


def register(app: App, services: Services) -> None:
    """Register `/summary` and where summaries are posted."""
    sessions = services.sessions
    summaries = services.summaries
    summaries.attach(SlackSummaryPublisher(services.client, services.settings.SUMMARY_CHANNEL))

    @app.command("/summary")
    def handle_summary(
        ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        text = command.get("text", "")
        subcommand, _ = split_subcommand(text)
        if subcommand == "help":
            ack(
                text="Usage: /summary",
                blocks=as_dicts(
                    [
                        section(
                            "*`/summary`* (facilitators) posts an interim summary of this "
                            "session to the channel and the organisers' summary channel: "
                            "attendance, every poll so far, report-backs, consented quotes and "
                            "themes. The final summary is posted by `/session end`."
                        )
                    ]
                ),
            )
            return
        parsed = parse(SUMMARY_SPEC, text)
        if isinstance(parsed, UsageError):
            ack_usage(ack, parsed)
            return
        session = sessions.controlled_session(
            channel_id=command["channel_id"], user_id=command["user_id"]
        )
        if isinstance(session, Refusal):
            ack_refusal(ack, session.message)
            return
        if not sessions.remember_delivery(context.get(DELIVERY_KEY)):
            ack()  # a redelivery: the summary is already on its way
            return
        ack(text=":hourglass_flowing_sand: Posting an interim summary…")
        assert session.id is not None
        summaries.post_interim(session.id)
