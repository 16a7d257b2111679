"""The session summary as Slack messages, split to stay inside Block Kit's limits, and its help."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject

from bot.report.small_groups import hidden_note
from bot.summaries import SessionSummary
from bot.views.common import (
    MAX_BLOCKS,
    context,
    counted_lines,
    esc,
    pack_lines,
    section,
    slack_date,
    trim,
)
from bot.views.polls import bar

SUMMARY_HEADER_MAX = 150


def _heading(summary: SessionSummary) -> list[Block]:
    session = summary.session
    kind = "Interim summary" if summary.interim else "Summary"
    details = [slack_date(session.started_at, "{date_long}")]
    if session.area:
        details.append(f"Area: {esc(session.area)}")
    if session.group_type:
        details.append(f"Group: {esc(session.group_type)}")
    if summary.interim:
        details.append(f"as of {slack_date(summary.at, '{time}')}")
    details.append(f"session id {session.id}")
    return [
        HeaderBlock(text=PlainTextObject(text=trim(f"{kind}: {session.title}", 150))),
        context(" · ".join(details)),
    ]


def _attendance(summary: SessionSummary) -> list[str]:
    att = summary.attendance
    return [
        f"*Attendance* — {att.check_ins} checked in",
        f"*By role*\n{counted_lines(list(att.by_role), limit=50)}",
        f"*By group*\n{counted_lines(list(att.by_group), limit=50)}",
    ]


def _polls(summary: SessionSummary) -> list[str]:
    if not summary.polls:
        return ["*Polls* — none in this session."]
    texts = ["*Polls*"]
    for item in summary.polls:
        result = item.result
        lines = [f"*{esc(item.poll.question)}*"]
        if item.poll.open_then:
            # Shown again as of its time: votes carry no time, so those cast by then are not
            # known, and later ones must not appear under "as of".
            lines.append(
                f"_still open at {slack_date(summary.at, '{time}')}: its votes then are not"
                " kept, so they are not shown again here; the final summary has its results_"
            )
            texts.append("\n".join(lines))
            continue
        if item.poll.hidden:
            lines.append(f"_results hidden until the poll closes · {result.n} voted so far_")
            texts.append("\n".join(lines))
            continue
        for number, share in enumerate(result.shares):
            line = (
                f"{bar(share.count, result.n)} {share.percent}% {esc(share.label)} ({share.count})"
            )
            shown = [source for source in item.sources if not source.hidden]
            if shown:
                line += " — " + " · ".join(
                    f"{source.name} {source.shares[number].count}" for source in shown
                )
            lines.append(line)
        notes = [f"of {result.n} who voted" if result.n else "nobody voted"]
        if item.sources:
            notes[0] += (
                " ("
                + ", ".join(
                    f"{s.hidden_label if s.hidden else s.n} in {s.name}" for s in item.sources
                )
                + ")"
            )
        if item.poll.multi:
            notes.append("several answers allowed")
        if item.poll.anonymous:
            notes.append("anonymous: totals only")
        lines.append("_" + " · ".join(notes) + "_")
        texts.append("\n".join(lines))
    return texts


def _rooms(summary: SessionSummary) -> list[str]:
    if not summary.rooms:
        return []
    texts = ["*Report-backs*"]
    for room in summary.rooms:
        edited = f" _(edited, {room.versions} versions)_" if room.versions > 1 else ""
        lines = [
            f"*Round {room.round_number} · Room {room.room_number}*{edited}",
            esc(room.summary),
        ]
        lines += [f"• {esc(point)}" for point in room.key_points]
        texts.append("\n".join(lines))
    return texts


def _quotes(summary: SessionSummary) -> list[str]:
    if not summary.quotes:
        return []
    lines = [f"> “{esc(text)}” — {esc(who)}" for text, who in summary.quotes]
    return ["*Quotes* (shared with consent)", *lines]


def _themes(summary: SessionSummary) -> list[str]:
    if not summary.themes:
        return []
    return [f"*Themes*\n{counted_lines(list(summary.themes), limit=100)}"]


def _small_groups(summary: SessionSummary) -> list[str]:
    if not summary.small_groups_hidden:
        return []
    return [f"_{hidden_note(summary.min_group)} Their people count in every total._"]


def render_summary(summary: SessionSummary) -> list[tuple[str, list[Block]]]:
    """The summary as one or more messages (text fallback, blocks), in order.

    Every part is kept: long parts are split over several sections, and sections over several
    messages, so no message has more than 50 blocks nor a section more than 3,000 characters.
    """
    parts: list[list[Block]] = [_heading(summary)]
    for texts in (
        _attendance(summary),
        _polls(summary),
        _rooms(summary),
        _quotes(summary),
        _themes(summary),
        _small_groups(summary),
    ):
        if texts:
            parts.append([DividerBlock(), *(section(t) for t in pack_lines(texts))])
    blocks = [block for part in parts for block in part]
    chunks = [blocks[i : i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    kind = "Interim summary" if summary.interim else "Summary"
    title = esc(summary.session.title, SUMMARY_HEADER_MAX)
    total = len(chunks)
    return [
        (f"{kind} of {title}" + (f" ({number}/{total})" if total > 1 else ""), chunk)
        for number, chunk in enumerate(chunks, start=1)
    ]


def render_summary_part_emptied() -> tuple[str, list[Block]]:
    """A message of a summary that is no longer needed: shown again (without a withdrawn quote,
    say), the summary fits in fewer messages."""
    text = "This part of the summary is no longer needed: the summary now fits in fewer messages."
    return text, [context(f"_{text}_")]


def render_summary_help() -> list[Block]:
    """What `/summary` does."""
    return [
        section(
            "*`/summary`* (facilitators) posts an interim summary of this "
            "session to the channel and the organisers' summary channel: "
            "attendance, every poll so far, report-backs, consented quotes and "
            "themes. The final summary is posted by `/session end`."
        )
    ]
