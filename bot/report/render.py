"""Render the tour report as one self-contained HTML file or as Markdown."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.report.model import PollAggregate, Result, TourReport
from storage.privacy.tables import shown_erased

# A chart renderer takes a poll aggregate and returns PNG bytes.
ChartRenderer = Callable[[PollAggregate], bytes]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: str) -> str:
    """User text made inert in Markdown: no emphasis, links, HTML or table breaks."""
    flat = " ".join(text.split())
    return _MD_SPECIAL.sub(r"\\\1", flat).replace("&", "&amp;")


def _date(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y") if moment else ""


def _shown(value: object) -> object:
    """What a template prints: an erased person's token in a text reads as in Slack."""
    return shown_erased(value) if isinstance(value, str) else value


def _environment() -> Environment:
    env = Environment(
        finalize=_shown,
        loader=PackageLoader("bot.report", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["date"] = _date
    env.filters["thousands"] = lambda n: f"{n:,}"
    env.globals["headline"] = headline
    return env


def headline(result: Result) -> str:
    """ "87% of 1,240 who answered chose Agree" for the most chosen option."""
    if not result.n:
        return "Nobody answered."
    top = max(result.shares, key=lambda share: share.count)
    return f"{top.percent}% of {result.n:,} who answered chose “{top.label}”."


def render_html(report: TourReport, chart: ChartRenderer | None = None) -> str:
    """One HTML file with its styles and charts embedded; it needs no network to display."""
    charts = {
        poll.key: base64.b64encode(chart(poll)).decode("ascii")
        for poll in report.polls
        if chart is not None and poll.overall.n
    }
    return _environment().get_template("report.html.j2").render(report=report, charts=charts)


def render_markdown(report: TourReport) -> str:
    """The report as Markdown, for pasting into documents."""
    return _environment().get_template("report.md.j2").render(report=report)
