"""A summary's Slack and Zoom rows and attendance with small groups hidden, as Slack shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.report.model import PollRow, Result, Share, TourAttendance
from bot.summaries import PollSummary, SessionSummary
from bot.summaries.service import suppress_small_groups
from bot.views.summary import render_summary
from storage.models import ListeningSession

T0 = datetime(2031, 1, 10, 18, tzinfo=UTC)


def _summary() -> SessionSummary:
    def result(name: str, agree: int, disagree: int) -> Result:
        n = agree + disagree
        return Result(name, n, (Share("Agree", agree, 100 * agree // n), Share("No", disagree, 0)))

    poll = PollRow(1, 1, "nhs", "Fund the NHS?", ("Agree", "No"), False, False)
    return SessionSummary(
        session=ListeningSession(
            id=1, channel_id="C1", title="Durham", started_by="U0", started_at=T0
        ),
        interim=False,
        at=T0,
        attendance=TourAttendance(1, 40, 40, (("Member", 38), ("Councillor", 2)), ()),
        polls=(
            PollSummary(poll, result("All", 40, 0), (result("Slack", 38, 0), result("Zoom", 2, 0))),
        ),
        rooms=(),
        quotes=(),
        themes=(),
    )


def _text(summary: SessionSummary) -> str:
    return json.dumps(
        [[b.to_dict() for b in blocks] for _, blocks in render_summary(summary)], ensure_ascii=False
    )


def test_two_in_zoom_hides_both_sources_and_the_totals_stay() -> None:
    text = _text(suppress_small_groups(_summary(), min_group=5))
    assert "of 40 who voted (not shown in Slack, fewer than 5 in Zoom)" in text
    assert "Slack 38" not in text
    assert "Zoom 2" not in text
    assert "100% Agree (40)" in text
    assert "• Councillor — fewer than 5" in text
    assert "• Member — not shown" in text
    assert "Groups of fewer than 5 people are not shown." in text


def test_min_group_1_shows_every_source() -> None:
    text = _text(suppress_small_groups(_summary(), min_group=1))
    assert "(38 in Slack, 2 in Zoom)" in text
    assert "Slack 38 · Zoom 2" in text
    assert "• Councillor — 2" in text
    assert "not shown" not in text
