"""What a poll shows once Zoom's answers are merged, and what its thread is told about Zoom."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.standin import validate_blocks
from bot.views.common import as_dicts
from bot.views.polls import render_poll_message
from bot.views.zoom_polls import render_zoom_answers_added, render_zoom_note
from bot.zoom_polls.effects import CREATED, NO_ANSWERS, NOT_ADDED, REFUSED, RESULTS_REFUSED
from storage.zoom.polls import ZoomPoll, ZoomTally
from tests.bot.test_polls_views import NOW, _state
from tests.e2e.conftest import all_text


def _merged(min_group: int = 1) -> tuple[str, str]:
    state = _state("Back the strike?", ["Agree", "Disagree"], [3, 1], closed=True)
    zoom = ZoomTally(counts=(1, 3), voters=4, duplicates=1, unmatched=(("<!channel> maybe", 2),))
    merged = replace(state, zoom=zoom, min_group=min_group)
    _text, blocks = render_poll_message(merged)
    assert validate_blocks(as_dicts(blocks)) == []
    return all_text(as_dicts(blocks)), render_zoom_answers_added(merged)


def test_the_closed_poll_shows_slack_zoom_and_both_together() -> None:
    shown, _ = _merged()
    assert "*Agree*" in shown
    assert "4 of 8 who voted" in shown  # 3 in Slack + 1 in Zoom, of 4 + 4
    assert "Slack 75% (3) · Zoom 25% (1)" in shown
    assert "Slack 25% (1) · Zoom 75% (3)" in shown
    assert "*8* answered: *4* in Slack, *4* in Zoom (1 who answered in both counted once" in shown
    assert "8 voted" in shown


def test_zoom_answers_matching_no_option_are_listed_escaped_and_not_counted() -> None:
    shown, _ = _merged()
    assert "matching no option (not counted): “&lt;!channel&gt; maybe” (2)" in shown
    assert "<!channel>" not in shown


def test_the_thread_says_how_many_zoom_answers_were_added() -> None:
    _, added = _merged()
    assert added.startswith(":inbox_tray: *Zoom answers added: 4.*")
    assert "Slack (4), Zoom (4) and both together (8)" in added
    assert "1 person answered in Zoom and in Slack: counted once" in added
    assert "2 Zoom answers matched no option" in added


def test_fewer_than_min_group_in_slack_or_zoom_hides_both_sources() -> None:
    """4 in Slack and 4 in Zoom with REPORT_MIN_GROUP 5: neither is shown (the total is, so
    showing one would give the other away), nor what each chose; the totals stay."""
    shown, added = _merged(min_group=5)
    assert "4 of 8 who voted" in shown
    assert "*8* answered in Slack and Zoom together" in shown
    assert "groups of fewer than 5 people are not shown" in shown
    assert "Slack 75%" not in shown
    assert "in Slack, *4* in Zoom" not in shown
    assert "*Zoom answers added.*" in added
    assert "together (8)" in added
    assert "(4)" not in added
    assert "groups of fewer than 5 people are not shown" in added
    # 4 and 4 are shown once the smallest group shown is 4.
    shown, added = _merged(min_group=4)
    assert "Slack 75% (3) · Zoom 25% (1)" in shown
    assert "Slack (4), Zoom (4) and both together (8)" in added


def test_a_slack_only_poll_shows_no_sources() -> None:
    _text, blocks = render_poll_message(_state("Q?", ["A", "B"], [1, 1], closed=True))
    assert "Zoom" not in all_text(as_dicts(blocks))


def _zoom(problem: str | None = None) -> ZoomPoll:
    return ZoomPoll(
        poll_id=7,
        session_id=1,
        meeting_id="81234567890",
        status="created",
        problem=problem,
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("what", "said"),
    [
        (CREATED, "launch it from Zoom's *Polls* menu"),
        (REFUSED, "could not be added to the Zoom meeting:* Zoom said &lt;no&gt;. The Slack poll"),
        (NOT_ADDED, "Not added to the Zoom meeting:* Zoom said &lt;no&gt;."),
        (NO_ANSWERS, "within 2 hours"),
        (RESULTS_REFUSED, "would not give this poll's answers (Zoom said &lt;no&gt;)"),
    ],
)
def test_every_note_says_what_happened(what: str, said: str) -> None:
    assert said in render_zoom_note(what, _zoom("Zoom said <no>"))


def test_an_unknown_note_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown"):
        render_zoom_note("something", _zoom())
