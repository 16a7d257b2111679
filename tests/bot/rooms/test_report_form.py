"""Checking a submitted report-back form."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.rooms import (
    FIELD_NEW_THEMES,
    FIELD_SUMMARY,
    FIELD_THEMES,
    CleanReport,
    FormErrors,
    QuoteAnswer,
    ReportAnswers,
    quote_field,
    validate_report,
)
from storage.rooms import NewQuote, SessionTheme

T0 = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


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
