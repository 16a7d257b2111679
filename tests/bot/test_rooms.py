"""Parsing `/breakout` and `/breakout move`, the warning time, and report-back validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.assignment import Mode
from bot.parsing import UsageError
from bot.rooms import (
    DEFAULT_TIME,
    FIELD_NEW_THEMES,
    FIELD_SUMMARY,
    FIELD_THEMES,
    BreakoutRequest,
    CleanReport,
    FormErrors,
    MoveRequest,
    QuoteAnswer,
    ReportAnswers,
    parse_breakout_text,
    parse_move_text,
    quote_field,
    validate_report,
    warning_time,
)
from storage.rooms import NewQuote, SessionTheme

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


def _theme(theme_id: int, name: str) -> SessionTheme:
    return SessionTheme(id=theme_id, session_id=1, name=name, name_key=name.lower(), created_at=T0)


def test_validate_report_cleans_what_it_keeps() -> None:
    answers = ReportAnswers(
        summary="  Buses  ",
        key_points="• one\n\n  - two  \n* three",
        quotes=(
            QuoteAnswer("  said  ", " Member ", "  Stoke  on Trent ", True),
            QuoteAnswer(),
        ),
        theme_ids=("1", "1"),
        new_themes="Jobs,  jobs ; Housing\nhousing, ,",
    )
    clean = validate_report(answers, [_theme(1, "Housing")])
    assert clean == CleanReport(
        summary="Buses",
        key_points=["one", "two", "three"],
        quotes=[NewQuote("said", "Member", "Stoke on Trent", True)],
        theme_ids=[1],
        new_themes=["Jobs"],
    )


def test_validate_report_collects_every_error() -> None:
    answers = ReportAnswers(
        summary="",
        quotes=(QuoteAnswer("q", None), QuoteAnswer(None, "Member")),
        theme_ids=("5",),
        new_themes="x" * 80,
    )
    result = validate_report(answers, [])
    assert isinstance(result, FormErrors)
    assert set(result.errors) == {
        FIELD_SUMMARY,
        quote_field("role", 1),
        quote_field("text", 2),
        FIELD_THEMES,
        FIELD_NEW_THEMES,
    }
