"""Build and write the tour-wide report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.charts import bar_chart_png
from bot.report.aggregate import Progress, build_report
from bot.report.collect import collect
from bot.report.model import PollAggregate, TourReport
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


def write_report(
    db: Database,
    where: SessionFilter,
    out: Path,
    *,
    now: datetime,
    progress: Progress,
    shown: Callable[[TourReport], TourReport],
) -> TourReport:
    """Collect, aggregate and write the report to `out` (.html or .md), as `shown` lets it be
    shown (bot.privacy.groups.suppress_report: small groups hidden), and return that.

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
            data, generated_at=now, since=where.since, until=where.until, progress=progress
        )
    )
    progress("writing " + out.name)
    if out.suffix.lower() == ".html":
        text = render_html(report, chart=poll_chart)
    else:
        text = render_markdown(report)
    out.write_text(text, encoding="utf-8")
    return report
