"""Poll views and the chart: Slack's limits hold for any poll, and user text is escaped."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.charts import bar_chart_png
from bot.polls import AlreadyVoted, PollClosed, PollState, VoteRecorded
from bot.standin import validate_blocks, validate_view
from bot.views.common import as_dicts
from bot.views.poll_forms import render_ballot_form, render_poll_form
from bot.views.polls import (
    BUTTON_TEXT_MAX,
    pack_lines,
    parse_vote_value,
    poll_status_lines,
    render_poll_help,
    render_poll_message,
    render_results,
    render_vote_confirmation,
    render_vote_refused,
    split_mrkdwn,
    vote_value,
)
from storage.polls import Poll, Tally
from storage.zoom.polls import ZoomTally
from tests.e2e.conftest import mrkdwn as _mrkdwn

NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


def _state(
    question: str,
    options: list[str],
    counts: list[int] | None = None,
    *,
    closed: bool = False,
    **flags: bool,
) -> PollState:
    counts = counts or [0] * len(options)
    poll = Poll(
        id=7,
        session_id=1,
        channel_id="C1",
        key="k",
        question=question,
        option_count=len(options),
        multi=flags.get("multi", False),
        anonymous=flags.get("anonymous", False),
        hide_results=flags.get("hide_results", False),
        created_by="U1",
        created_at=NOW,
        closes_at=NOW + timedelta(minutes=2),
        closed_at=NOW + timedelta(minutes=2) if closed else None,
        close_reason="deadline" if closed else None,
        message_ts="1.2",
    )
    voters = max(counts) if flags.get("multi") else sum(counts)
    return PollState(poll, tuple(options), Tally(tuple(counts), voters))


option_text = st.text(min_size=1, max_size=300).map(lambda s: " ".join(s.split()) or "x")
hostile = st.sampled_from(["&", "<", ">", "<!channel>", "*", "`", "\n", "é", "🎉", "$"])
question_text = st.lists(st.one_of(hostile, st.text(max_size=50)), max_size=400).map(
    lambda parts: ("".join(parts) or "q")[:3000]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    question=question_text,
    options=st.lists(option_text, min_size=2, max_size=20),
    closed=st.booleans(),
    multi=st.booleans(),
    anonymous=st.booleans(),
    hide=st.booleans(),
    data=st.data(),
)
def test_every_poll_message_fits_slacks_limits(
    question: str,
    options: list[str],
    closed: bool,
    multi: bool,
    anonymous: bool,
    hide: bool,
    data: st.DataObject,
) -> None:
    counts = data.draw(st.lists(st.integers(0, 300), min_size=len(options), max_size=len(options)))
    state = _state(
        question,
        options,
        counts,
        closed=closed,
        multi=multi,
        anonymous=anonymous,
        hide_results=hide,
    )
    if closed and data.draw(st.booleans()):  # answers merged from the Zoom meeting
        zoom_counts = data.draw(
            st.lists(st.integers(0, 300), min_size=len(options), max_size=len(options))
        )
        unmatched = data.draw(st.lists(st.tuples(question_text, st.integers(1, 9)), max_size=15))
        zoom = ZoomTally(tuple(zoom_counts), max(zoom_counts), 3, tuple(unmatched))
        state = replace(state, zoom=zoom)
    text, blocks = render_poll_message(state)
    rendered = as_dicts(blocks)
    assert validate_blocks(rendered) == []
    assert validate_blocks(as_dicts(render_results(state))) == []
    # Raw user text never reaches mrkdwn: no <…> except the date tokens we add ourselves.
    for shown in [text, *_mrkdwn(rendered)]:
        ours = re.sub(r"<!date\^\d+\^[^|>]+\|[^>]+>", "", shown)
        assert "<" not in ours, shown
        assert ">" not in ours, shown
    if anonymous and multi:
        assert validate_view(render_ballot_form(state).to_dict()) == []


def test_buttons_are_shortened_and_the_full_text_is_in_the_message() -> None:
    long = "An option that goes on " + "and on " * 20 + "to the end"
    _, blocks = render_poll_message(_state("Q?", [long, "Short"]))
    rendered: list[dict[str, Any]] = as_dicts(blocks)
    buttons = [e for b in rendered if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["text"]["text"].endswith("…")
    assert len(buttons[0]["text"]["text"]) == BUTTON_TEXT_MAX
    assert buttons[1]["text"]["text"] == "2. Short"
    assert any(long in text for text in _mrkdwn(rendered))


def test_vote_values_round_trip_and_tampering_is_recognised() -> None:
    assert parse_vote_value(vote_value(123, 19)) == (123, 19)
    for bad in (None, 5, "", "1", "a:b", "1:2:3", "-1:0", "1:-1", "1:1000", "9" * 19 + ":0"):
        assert parse_vote_value(bad) is None, bad


@given(
    st.lists(st.sampled_from(["a", "bb", " ", "\n", "&amp;", "&lt;", "é"]), max_size=2000).map(
        "".join
    )
)
def test_split_mrkdwn_keeps_every_piece_in_limits_and_escapes_whole(text: str) -> None:
    pieces = split_mrkdwn(text, 100)
    assert all(0 < len(piece) <= 100 for piece in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())
    for piece in pieces:
        # an escape is never cut in two
        assert not piece.endswith(("&", "&a", "&am", "&amp", "&l", "&lt"))


def test_pack_lines_fills_sections() -> None:
    lines = ["x" * 40] * 10
    packed = pack_lines(lines, 100)
    assert [len(p) for p in packed] == [81, 81, 81, 81, 81]
    assert pack_lines(["y" * 250], 100) == ["y" * 100, "y" * 100, "y" * 50]


def test_confirmations() -> None:
    base = {
        "poll_id": 1,
        "session_id": 2,
        "channel_id": "C1",
        "chosen": ("A & B",),
        "multi": False,
        "anonymous": False,
        "closes_at": NOW,
        "checked_in": True,
    }
    single, blocks = render_vote_confirmation(VoteRecorded(**base))  # type: ignore[arg-type]
    assert single.startswith(":white_check_mark: You voted: *A &amp; B*. You can change it until ")
    assert f"<!date^{int(NOW.timestamp())}^{{time}}|" in single
    assert len(blocks) == 1
    anonymous, _ = render_vote_confirmation(VoteRecorded(**{**base, "anonymous": True}))  # type: ignore[arg-type]
    assert "can't be changed" in anonymous
    _invited, blocks = render_vote_confirmation(VoteRecorded(**{**base, "checked_in": False}))  # type: ignore[arg-type]
    assert "Check in" in json.dumps(as_dicts(blocks))
    assert "closed at <!date^" in render_vote_refused(PollClosed(NOW))
    assert "already voted" in render_vote_refused(AlreadyVoted())


def test_help_forms_and_status_lines_are_valid() -> None:
    assert validate_blocks(as_dicts(render_poll_help())) == []
    assert validate_view(render_poll_form("C1").to_dict()) == []
    many = _state("Q?", [f"option {n}" for n in range(20)], anonymous=True, multi=True)
    assert validate_view(render_ballot_form(many).to_dict()) == []
    assert "multi_static_select" in json.dumps(render_ballot_form(many).to_dict())
    [line] = poll_status_lines([_state("<!here> now?", ["a", "b"], [1, 2])])
    assert "&lt;!here&gt; now?" in line
    assert "3 voted" in line


@pytest.mark.filterwarnings("ignore:Glyph:UserWarning")  # pytest resets the module's filter
def test_the_chart_is_a_png_for_any_text() -> None:
    png = bar_chart_png(
        "$\\frac{1}{0}$ <!channel> " + "very long " * 50,
        ["$unbalanced", "🎉", "x" * 300, ""],
        [3, 0, 1, 0],
        total=4,
        note="of 4 who voted",
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 1000
    empty = bar_chart_png("Nobody voted", ["a", "b"], [0, 0], total=0)
    assert empty.startswith(b"\x89PNG")
    assert io.BytesIO(empty).read(8) == b"\x89PNG\r\n\x1a\n"
