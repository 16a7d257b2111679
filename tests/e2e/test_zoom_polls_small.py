"""A Zoom-merged poll's own message and thread with REPORT_MIN_GROUP 3: Slack's 2 voters are
too few to show, and Zoom's would be the total minus them, so neither source is shown there
(nor in the summary); the totals are. The real app against the fake Slack and fake Zoom."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.standin.zoom import FakeZoom
from tests.e2e.conftest import CHANNEL, RunningBot, all_text
from tests.e2e.test_polls import _message
from tests.e2e.test_zoom_polls import (
    MEETING_ID,
    _launch_vote_and_end,
    _respondent,
    _start,
    _thread,
    _zoom_row,
)
from tests.e2e.zoom_helpers import zoom_idle, zoom_overrides

IN_ZOOM = [f"z{i}@example.org" for i in range(5)]


@pytest.fixture
def settings_overrides(fake_zoom: FakeZoom) -> dict[str, Any]:
    return zoom_overrides(fake_zoom, REPORT_MIN_GROUP="3")


def test_the_closed_polls_message_and_thread_hide_a_small_source_and_its_complement(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    ts, zoom_poll_id = _launch_vote_and_end(bot, fake_zoom)  # 2 in Slack: Agree, Disagree
    fake_zoom.set_past_polls(
        MEETING_ID, [_respondent(email, email, "Agree", zoom_poll_id) for email in IN_ZOOM]
    )
    bot.clock.advance(timedelta(minutes=2))
    assert bot.services.zoom_worker is not None
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    assert _zoom_row(bot).status == "merged"

    shown = all_text(_message(bot, ts)["blocks"])
    assert "6 of 7 who voted" in shown  # Agree: 1 in Slack + 5 in Zoom
    assert "*7* answered in Slack and Zoom together" in shown
    assert "groups of fewer than 3 people are not shown" in shown
    assert "Slack 50%" not in shown
    assert "in Slack" not in shown.replace("in Slack and Zoom together", "")
    [added] = [text for text in _thread(bot, ts) if "Zoom answers added" in text]
    assert "together (7)" in added
    assert "(2)" not in added
    assert "(5)" not in added

    summary = next(
        m for m in bot.slack.messages(CHANNEL) if str(m.get("text", "")).startswith("Summary of")
    )
    summary_text = all_text(summary["blocks"])
    assert "2 in Slack" not in summary_text
    assert "5 in Zoom" not in summary_text
