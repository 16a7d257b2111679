"""Parsing `/breakout` and `/breakout move`, and when the warning comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.assignment import Mode
from bot.parsing import UsageError
from bot.rooms import (
    DEFAULT_TIME,
    PROMPT_MAX,
    THEME_MAX,
    BreakoutRequest,
    MoveRequest,
    parse_breakout_text,
    parse_move_text,
    warning_time,
)
from storage import rooms as store

T0 = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


def test_parse_breakout_with_every_flag() -> None:
    request = parse_breakout_text(
        "4 --time 20m --mode mix:place --prompt “What matters most?” --seed 12"
    )
    assert request == BreakoutRequest(
        rooms=4,
        size=None,
        duration=timedelta(minutes=20),
        mode=Mode("mix", "place"),
        prompt="What matters most?",
        seed=12,
    )


def test_parse_breakout_defaults() -> None:
    assert parse_breakout_text("--size 3") == BreakoutRequest(
        rooms=None, size=3, duration=DEFAULT_TIME, mode=Mode(), prompt=None, seed=None
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "at least 1"),
        ("2 --size 3", "not both"),
        ("", "Say how many rooms"),
        ("--mode mix:age 2", "Unknown attribute “age”"),
        ("x", "is not a number of rooms"),
        ("9999999", "is not a number of rooms"),
    ],
)
def test_parse_breakout_errors(text: str, message: str) -> None:
    error = parse_breakout_text(text)
    assert isinstance(error, UsageError)
    assert message in error.message
    assert error.usage.startswith("/breakout")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U012AB3CD|sam> 3", MoveRequest("U012AB3CD", 3)),
        ("<@U012AB3CD> 3", MoveRequest("U012AB3CD", 3)),
        ("<@W0ENTERPRISE|x y> 1", MoveRequest("W0ENTERPRISE", 1)),
    ],
)
def test_parse_move(text: str, expected: MoveRequest) -> None:
    assert parse_move_text(text) == expected


@given(st.text(max_size=80))
def test_parse_move_never_raises(text: str) -> None:
    result = parse_move_text(text)
    assert isinstance(result, MoveRequest | UsageError)


@pytest.mark.parametrize(
    ("minutes", "warn_after"),
    [(15, timedelta(minutes=13)), (10, timedelta(minutes=8)), (5, timedelta(minutes=4))],
)
def test_warning_time(minutes: int, warn_after: timedelta) -> None:
    assert warning_time(T0, T0 + timedelta(minutes=minutes)) == T0 + warn_after


@given(st.integers(60, 3 * 3600))
def test_the_warning_always_comes_before_the_end(seconds: int) -> None:
    end = T0 + timedelta(seconds=seconds)
    warn = warning_time(T0, end)
    assert T0 < warn < end
    assert end - warn <= timedelta(minutes=2)


def test_the_rules_fit_the_columns() -> None:
    # The rules are the bot's; the columns only have to hold what the rules allow.
    assert store.PROMPT_MAX >= PROMPT_MAX
    assert store.THEME_MAX >= THEME_MAX
