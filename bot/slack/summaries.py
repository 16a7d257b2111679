"""Posting session summaries, sent by the outbox: the messages, then the poll charts in their
thread, to the session's channel and the organisers' channel.

A summary is several posts per channel. Each one done is recorded in the row's progress, so a
retry after a partial failure (Slack down halfway, one channel refusing) posts only what is
missing: every part reaches every channel at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.charts import bar_chart_png
from bot.slack.kinds import Kind, Progress, is_transient, is_uneditable
from bot.slack.sender import OutboxSender
from bot.summaries import (
    SUMMARY_EDIT,
    SUMMARY_FINAL,
    SUMMARY_INTERIM,
    SUMMARY_QUOTE_WITHDRAWN,
    SessionSummary,
    SummaryService,
    final_summary,
)
from bot.views.common import as_dicts
from bot.views.summary import render_summary, render_summary_part_emptied
from storage.outbox import Pending
from storage.summaries import SummaryPost

logger = logging.getLogger(__name__)

CHARTS_PER_UPLOAD = 10  # files_upload_v2 takes at most ten files at once

Chart = dict[str, object]


def register_summary_effects(
    sender: OutboxSender,
    *,
    client: WebClient,
    summaries: SummaryService,
    summary_channel: str | None,
) -> None:
    """Say how the sender posts final and interim summaries."""
    poster = SlackSummaryPoster(client, summaries, summary_channel)
    sender.register(SUMMARY_FINAL, Kind(send=poster.send_final, refused=poster.given_up))
    sender.register(SUMMARY_INTERIM, Kind(send=poster.send_interim))
    sender.register(SUMMARY_EDIT, Kind(send=poster.send_edit))
    sender.register(SUMMARY_QUOTE_WITHDRAWN, Kind(send=poster.send_without_quote))


class SlackSummaryPoster:
    """Posts a summary (messages, then the poll charts) to the channels it belongs in."""

    def __init__(
        self, client: WebClient, summaries: SummaryService, summary_channel: str | None
    ) -> None:
        self.client = client
        self.summaries = summaries
        self.summary_channel = summary_channel

    def send_final(self, row: Pending, progress: Progress) -> bool:
        """An ended session's summary (queued behind its "has ended"); then it is done."""
        session_id = row.int_arg("session_id")
        summary = self.summaries.build(session_id, interim=False)
        if summary is None:
            return False  # the session is gone
        sent = self.post(summary, progress, key=row.key)
        self.summaries.mark_done(session_id)
        return sent

    def given_up(self, row: Pending, error: SlackApiError) -> None:
        """Slack refused part of a final summary for good: the rest is out, so it is done."""
        self.summaries.mark_done(row.int_arg("session_id"))

    def send_interim(self, row: Pending, progress: Progress) -> bool:
        """A running session's summary as it is now."""
        summary = self.summaries.build(row.int_arg("session_id"), interim=True)
        return summary is not None and self.post(summary, progress, key=row.key)

    def send_edit(self, row: Pending, progress: Progress) -> bool:
        """Show the final summary again as it is now, in place: each message it posted is
        edited; a part that did not exist before is posted after them. Charts stay as posted."""
        session_id = row.int_arg("session_id")
        posted = self.summaries.final_progress(session_id)
        summary = self.summaries.build(session_id, interim=False)
        if summary is None:
            return False
        messages = render_summary(summary)
        # Its parts by number: those its own row posted, and any a withdrawal posted after them.
        key = final_summary(session_id).key
        parts: dict[str, dict[int, str]] = {}
        for post in self.summaries.posted(session_id):
            if post.summary_key == key:
                parts.setdefault(post.channel, {})[post.part] = post.ts
        sent = False
        for channel in self.channels(summary):
            known = dict(enumerate((str(ts) for ts in posted.get(_messages(channel)) or []), 1))
            known.update(parts.get(channel, {}))  # also once its row is forgotten, days later
            earlier = [known[part] for part in sorted(known)]
            if not earlier or progress.get(_done(channel)):
                continue  # not posted there (yet): when it is, it is posted as it is now
            for (text, blocks), ts in zip(messages, earlier, strict=False):
                self._edit(channel, ts, text, blocks)
            for ts in earlier[len(messages) :]:  # no longer needed: emptied, as a withdrawal does
                self._edit(channel, ts, *render_summary_part_emptied())
            for part, message in enumerate(messages[len(earlier) :], len(earlier) + 1):
                self._post_part(summary, key, channel, part, message)
            progress.done(_done(channel))
            sent = True
        return sent

    def send_without_quote(self, row: Pending, progress: Progress) -> bool:
        """A quote withdrawn: every summary of the session already posted, final or interim, is
        edited in place without it, part by part, in every channel.

        An interim summary shows what it showed when it was built (its "as of" time), minus
        what was withdrawn or erased since; the final one is shown as it is now. Messages a
        summary no longer needs are emptied; parts it needs beyond those posted are posted
        after them in the same channel (and remembered, for the next withdrawal). Charts stay:
        they show no quotes. Each message done is recorded, so a retry after Slack failed
        halfway does only the rest.
        """
        session_id = row.int_arg("session_id")
        posts = self.summaries.posted(session_id)
        by_summary: dict[str, list[SummaryPost]] = {}
        for post in posts:
            by_summary.setdefault(post.summary_key, []).append(post)
        sent = False
        for key, parts in by_summary.items():
            first = parts[0]
            as_of = first.built_at if first.interim else None
            summary = self.summaries.build(session_id, interim=first.interim, as_of=as_of)
            if summary is None:
                return sent  # the session is gone
            messages = render_summary(summary)
            for post in parts:
                step = f"{key}:{post.channel}:{post.part}"
                if progress.get(step):
                    continue
                if post.part <= len(messages):
                    text, blocks = messages[post.part - 1]
                else:
                    text, blocks = render_summary_part_emptied()
                self._edit(post.channel, post.ts, text, blocks)
                progress.done(step)
                sent = True
            sent = self._post_missing(summary, key, parts, messages, progress) or sent
        return sent

    def _post_missing(
        self,
        summary: SessionSummary,
        key: str,
        parts: list[SummaryPost],
        messages: list[tuple[str, list[Block]]],
        progress: Progress,
    ) -> bool:
        """Post the parts a rebuilt summary needs beyond those posted, in each channel it is in,
        as the summary's own next parts (top level, like the others), so nothing is dropped.

        Not in a channel the summary's own row is still posting to: it posts the rest itself.
        """
        last: dict[str, int] = {}
        for post in parts:
            last[post.channel] = max(last.get(post.channel, 0), post.part)
        own = self.summaries.progress(key)
        sent = False
        for channel, posted in last.items():
            if own is not None and not own.get(_done(channel)):
                continue
            for part in range(posted + 1, len(messages) + 1):
                step = f"{key}:{channel}:{part}"
                if progress.get(step):
                    continue
                self._post_part(summary, key, channel, part, messages[part - 1])
                progress.done(step)
                sent = True
        return sent

    def _post_part(
        self,
        summary: SessionSummary,
        key: str,
        channel: str,
        part: int,
        message: tuple[str, list[Block]],
    ) -> None:
        """Post part `part` of the summary queued under `key` in `channel`, after those posted
        (a rebuilt summary needing more), and record it as `_post_to` records its parts."""
        text, blocks = message
        answer = self.client.chat_postMessage(
            channel=channel, text=text, blocks=as_dicts(blocks), unfurl_links=False
        )
        self.summaries.record_post(
            summary, key=key, channel=channel, part=part, ts=str(answer["ts"])
        )

    def _edit(self, channel: str, ts: str, text: str, blocks: list[Block]) -> None:
        """Edit one message of a summary; one Slack no longer lets us edit is left as it is."""
        try:
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=as_dicts(blocks))
        except SlackApiError as error:
            if not is_uneditable(error):
                raise

    def channels(self, summary: SessionSummary) -> list[str]:
        """The session's channel, and the organisers' channel when set."""
        return list(
            dict.fromkeys(c for c in (summary.session.channel_id, self.summary_channel) if c)
        )

    def post(self, summary: SessionSummary, progress: Progress, *, key: str) -> bool:
        """Post what each channel is still missing; returns whether anything was posted.

        A channel that fails does not stop the others. A channel Slack refuses for good (the
        bot was removed from it) is not tried again; any other failure is raised after every
        channel had its turn, so the sender retries the missing parts later.
        """
        charts = _lazy(lambda: _charts(summary))
        retry: Exception | None = None
        refused: SlackApiError | None = None
        sent = False
        for channel in self.channels(summary):
            if progress.get(_done(channel)):
                continue
            try:
                sent = self._post_to(channel, summary, charts, progress, key) or sent
            except SlackApiError as error:
                if is_transient(error):
                    retry = retry or error
                    continue
                code = str(error.response.get("error") or "")
                logger.warning(
                    "summary of session %s refused in %s: %s", summary.session.id, channel, code
                )
                progress.done(_done(channel), f"refused: {code}")
                refused = refused or error
            except Exception as error:
                retry = retry or error
        if retry is not None:
            raise retry
        if refused is not None:
            raise refused
        return sent

    def _post_to(
        self,
        channel: str,
        summary: SessionSummary,
        charts: Callable[[], list[Chart]],
        progress: Progress,
        key: str,
    ) -> bool:
        """Every message of the summary not yet in `channel`, then its charts in the thread."""
        posted: list[str] = list(progress.get(_messages(channel)) or [])
        sent = False
        for text, blocks in render_summary(summary)[len(posted) :]:
            answer = self.client.chat_postMessage(
                channel=channel, text=text, blocks=as_dicts(blocks), unfurl_links=False
            )
            posted.append(str(answer["ts"]))
            progress.done(_messages(channel), posted)
            # Kept beyond the outbox row, which is forgotten days after it is done: a quote
            # withdrawn weeks later is still edited out of this message.
            self.summaries.record_post(
                summary, key=key, channel=channel, part=len(posted), ts=posted[-1]
            )
            sent = True
        batches = [
            charts()[start : start + CHARTS_PER_UPLOAD]
            for start in range(0, len(charts()), CHARTS_PER_UPLOAD)
        ]
        uploaded = int(progress.get(_charts_done(channel)) or 0)
        for number, batch in enumerate(batches[uploaded:], start=uploaded + 1):
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=posted[0] if posted else None,
                file_uploads=batch,
                initial_comment="Charts of this session's polls",
            )
            progress.done(_charts_done(channel), number)
            sent = True
        progress.done(_done(channel))
        return sent


# Progress steps, per channel. Migration 0006 writes `<channel>:done` for the channels an
# older release had already posted a summary to.
def _messages(channel: str) -> str:
    return f"{channel}:messages"  # the ts of each message posted, in order


def _charts_done(channel: str) -> str:
    return f"{channel}:charts"  # how many uploads of charts are done


def _done(channel: str) -> str:
    return f"{channel}:done"  # nothing more to post there


def _lazy(build: Callable[[], list[Chart]]) -> Callable[[], list[Chart]]:
    """`build`, called at most once (charts are only drawn for a channel that needs them)."""
    built: list[list[Chart]] = []

    def get() -> list[Chart]:
        if not built:
            built.append(build())
        return built[0]

    return get


def _charts(summary: SessionSummary) -> list[Chart]:
    """A bar chart of every poll with votes whose results are shown."""
    return [
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
