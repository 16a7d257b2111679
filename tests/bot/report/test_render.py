"""The report as HTML (self-contained, escaped) and Markdown (escaped)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from bot.report.aggregate import build_report
from bot.report.model import (
    PersonRow,
    PollAggregate,
    PollRow,
    QuoteRow,
    ReportInput,
    SessionRow,
    VoteRow,
)
from bot.report.render import md_escape, render_html, render_markdown

T0 = datetime(2031, 1, 10, 18, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> | *bold* [link](http://evil.example) & <img src=x>'
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _report() -> ReportInput:
    return ReportInput(
        sessions=[SessionRow(1, HOSTILE, T0, "Durham", "CLP")],
        people=[
            PersonRow(1, "U1", HOSTILE, "Durham", None),
            PersonRow(1, "U2", "Member", None, None),
        ],
        polls=[PollRow(1, 1, "k1", HOSTILE, (HOSTILE, "No"), False, False)],
        votes=[VoteRow(1, "U1", 0), VoteRow(1, "U2", 1)],
        quotes=[QuoteRow(1, HOSTILE, "Member", HOSTILE, (HOSTILE,))],
    )


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _chart(poll: PollAggregate) -> bytes:
    assert poll.overall.n == 2
    return PNG


def test_html_is_self_contained_and_escaped() -> None:
    html = render_html(build_report(_report(), generated_at=T0), chart=_chart)
    parsed = _Collector()
    parsed.feed(html)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags
    assert tags.count("img") == 1  # only the chart; the hostile <img> is text
    for tag, attrs in parsed.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("data:image/png;base64,"), (tag, value)
        assert tag not in ("link", "iframe", "object")
    text = "".join(parsed.text)
    assert HOSTILE in text  # shown verbatim, as text
    assert "50% of 2 who answered" in text
    img = next(attrs for tag, attrs in parsed.tags if tag == "img")
    assert base64.b64decode(str(img["src"]).split(",", 1)[1]) == PNG


def test_markdown_escapes_user_text() -> None:
    md = render_markdown(build_report(_report(), generated_at=T0))
    assert "<script>" not in md
    assert "[link](" not in md
    assert "\\<script\\>" in md
    # every row of every table keeps its header's column count: user text cannot add cells
    cells = re.compile(r"(?<!\\)\|")
    header_count = None
    for line in md.splitlines():
        if not line.startswith("|"):
            header_count = None
            continue
        count = len(cells.findall(line))
        if header_count is None:
            header_count = count
        assert count == header_count, line
    assert "| Member | 1 |" in md


def test_md_escape() -> None:
    assert md_escape("a|b *c* <d> & [e](f)\nnext") == (
        "a\\|b \\*c\\* \\<d\\> &amp; \\[e\\]\\(f\\) next"
    )


def test_empty_report_says_so() -> None:
    report = build_report(ReportInput(), generated_at=T0)
    assert "No polls in this period." in render_markdown(report)
    assert "No quotes in this period." in render_html(report)


def test_both_formats_show_each_source_with_its_n() -> None:
    data = _report()
    data.zoom_votes = [VoteRow(1, "zoom:guest", 0)]
    report = build_report(data, generated_at=T0)
    html = render_html(report)
    assert "By source" in html
    assert re.search(r'<td>Slack</td><td class="num">2</td>', html)
    assert re.search(r'<td>Zoom</td><td class="num">1</td><td class="num">100% \(1\)</td>', html)
    markdown = render_markdown(report)
    assert "Overall (n = 3)" in markdown
    assert "| Slack | 2 | 50% (1) | 50% (1) |" in markdown
    assert "| Zoom | 1 | 100% (1) | 0% (0) |" in markdown
    assert "By source" not in render_markdown(build_report(_report(), generated_at=T0))
