"""Build and write the tour-wide report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.charts import bar_chart_png
from bot.report.aggregate import Progress, attribution, build_report
from bot.report.collect import collect
from bot.report.model import PollAggregate, Quote, ReportInput, TourReport
from bot.report.render import render_html, render_markdown
from storage.db import Database
from storage.report import SessionFilter

REPORT_SUFFIXES = (".html", ".md")


class NothingToReport(Exception):
    """No session matches the filter."""


def poll_chart(poll: PollAggregate) -> bytes:
    """The overall result of a poll key as a PNG bar chart."""
    result = poll.overall
    return bar_chart_png(
        poll.question,
        [share.label for share in result.shares],
        [share.count for share in result.shares],
        total=result.n,
        percents=[share.percent for share in result.shares],
        note=f"of {result.n:,} who answered" + (" · several answers allowed" if poll.multi else ""),
    )


def with_quote_ids(report: TourReport, data: ReportInput) -> TourReport:
    """The report with each printed quote's id, so an organiser can find one to withdraw."""
    titles = {session.id: session.title for session in data.sessions}
    ids: dict[tuple[str, str | None, str | None, str], list[int]] = defaultdict(list)
    for row in data.quotes:
        if row.quote_id is not None:
            ids[(row.text, row.role, row.place, titles[row.session_id])].append(row.quote_id)
    by_print: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for (text, role, place, title), found in ids.items():
        by_print[(text, attribution(role, place), title)].extend(found)
    taken: dict[tuple[str, str, str], int] = defaultdict(int)

    def identified(quote: Quote) -> Quote:
        printed = (quote.text, quote.attribution, quote.session_title)
        found = by_print.get(printed, [])
        # A quote tagged with two themes is printed twice: the same id both times.
        if not found:
            return quote
        index = taken[printed] % len(found)
        taken[printed] += 1
        return replace(quote, quote_id=found[index])

    themes = tuple(
        replace(theme, quotes=tuple(identified(q) for q in theme.quotes)) for theme in report.themes
    )
    return replace(report, themes=themes)


def write_report(
    db: Database,
    where: SessionFilter,
    out: Path,
    *,
    now: datetime,
    progress: Progress,
    shown: Callable[[TourReport], TourReport],
    min_group: int = 1,
) -> TourReport:
    """Collect, aggregate and write the report to `out` (.html or .md), as `shown` lets it be
    shown (bot.report.small_groups.suppress_report: small groups hidden), and return that.
    Each session's groups of fewer than `min_group` people are merged before they are added
    up: the same REPORT_MIN_GROUP as `shown`'s.

    Raises:
        NothingToReport: no session matches.
        OSError: `out` cannot be written.
    """
    progress("reading the database")
    data = collect(db, where)
    if not data.sessions:
        raise NothingToReport()
    report = shown(
        build_report(
            data,
            generated_at=now,
            since=where.since,
            until=where.until,
            progress=progress,
            min_group=min_group,
        )
    )
    report = with_quote_ids(report, data)
    progress("writing " + out.name)
    if out.suffix.lower() == ".html":
        text = render_html(report, chart=poll_chart)
    else:
        text = render_markdown(report)
    out.write_text(text, encoding="utf-8")
    return report
