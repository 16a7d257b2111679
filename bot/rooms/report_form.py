"""The report-back form's rules: its fields, their limits, and checking what was submitted.

Field names double as the form's block ids (see `bot.views.reports`), so an error lands on the
field it is about. The limits are Slack's input limits or the form's own rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.models import ATTRIBUTE_MAX
from storage.rooms import NewQuote, SessionTheme, theme_key

SUMMARY_MAX = 3000  # Slack's plain_text_input holds at most 3,000 characters
KEY_POINTS_MAX = 3000
KEY_POINTS_LINES = 30
QUOTE_MAX = 1000
QUOTES_MAX = 5
NEW_THEMES_MAX = 500
THEMES_PER_REPORT = 10
THEME_MAX = 75  # a theme is offered back as a select option, whose text holds 75 characters

FIELD_ROOM = "report_room"
FIELD_SUMMARY = "report_summary"
FIELD_KEY_POINTS = "report_key_points"
FIELD_THEMES = "report_themes"
FIELD_NEW_THEMES = "report_new_themes"


def quote_field(part: str, index: int) -> str:
    """The field of quote `index` (1-5): part is text, role, place or consent."""
    return f"report_quote_{index}_{part}"


@dataclass(frozen=True)
class QuoteAnswer:
    """One quote slot of the form, as typed."""

    text: str | None = None
    role: str | None = None
    place: str | None = None
    consent: bool = False
    # The earlier version's quote the form pre-filled in this slot (edited or not), if any.
    copied_from: int | None = None


@dataclass(frozen=True)
class ReportAnswers:
    """The report-back form as submitted (raw values)."""

    summary: str | None
    key_points: str | None = None
    quotes: tuple[QuoteAnswer, ...] = ()
    theme_ids: tuple[str, ...] = ()
    new_themes: str | None = None
    room_id: str | None = None  # a facilitator's choice of room


@dataclass(frozen=True)
class FormErrors:
    """What was wrong with a submitted form, by field."""

    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanReport:
    """Validated report-back answers, ready to store."""

    summary: str
    key_points: list[str]
    quotes: list[NewQuote]
    theme_ids: list[int]
    new_themes: list[str]


def _too_long(what: str, text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"{what} is {len(text):,} characters long; the limit is {limit:,}."
    return None


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _split_themes(text: str | None) -> list[str]:
    parts = re.split(r"[,;\n]", text or "")
    names = [_one_line(part) for part in parts]
    unique: dict[str, str] = {}
    for name in names:
        if name:
            unique.setdefault(theme_key(name), name)
    return list(unique.values())


def _key_point_lines(text: str) -> list[str]:
    lines = []
    for raw in text.splitlines():
        line = _one_line(raw).lstrip("•*-– ").strip()
        if line:
            lines.append(line)
    return lines


def validate_report(
    answers: ReportAnswers, themes: Sequence[SessionTheme]
) -> CleanReport | FormErrors:
    """Check a submitted report-back against the form's rules and Slack's input limits."""
    errors: dict[str, str] = {}
    summary = (answers.summary or "").strip()
    if not summary:
        errors[FIELD_SUMMARY] = "Please write a short summary of what your room said."
    elif problem := _too_long("The summary", summary, SUMMARY_MAX):
        errors[FIELD_SUMMARY] = problem
    points_text = answers.key_points or ""
    points = _key_point_lines(points_text)
    if problem := _too_long("The key points", points_text, KEY_POINTS_MAX):
        errors[FIELD_KEY_POINTS] = problem
    elif len(points) > KEY_POINTS_LINES:
        errors[FIELD_KEY_POINTS] = (
            f"At most {KEY_POINTS_LINES} key points, one per line; got {len(points)}."
        )
    quotes: list[NewQuote] = []
    if len(answers.quotes) > QUOTES_MAX:
        errors[quote_field("text", QUOTES_MAX)] = f"At most {QUOTES_MAX} quotes."
    for index, answer in enumerate(answers.quotes[:QUOTES_MAX], start=1):
        quote = _check_quote(answer, index, errors)
        if quote is not None:
            quotes.append(quote)
    known = {str(theme.id): theme for theme in themes}
    chosen = [known[value] for value in dict.fromkeys(answers.theme_ids) if value in known]
    if len(chosen) != len(set(answers.theme_ids)):
        errors[FIELD_THEMES] = "Pick themes from the list (one is no longer there)."
    new_text = answers.new_themes or ""
    new_names = _split_themes(new_text)
    if problem := _too_long("The new themes", new_text, NEW_THEMES_MAX):
        errors[FIELD_NEW_THEMES] = problem
    elif long := [name for name in new_names if len(name) > THEME_MAX]:
        errors[FIELD_NEW_THEMES] = (
            f"Each theme can be {THEME_MAX} characters at most; “{long[0][:40]}…” is "
            f"{len(long[0])}. Separate themes with commas."
        )
    chosen_keys = {theme.name_key for theme in chosen}
    new_names = [name for name in new_names if theme_key(name) not in chosen_keys]
    if len(chosen) + len(new_names) > THEMES_PER_REPORT:
        errors[FIELD_NEW_THEMES] = f"At most {THEMES_PER_REPORT} themes per report-back."
    if errors:
        return FormErrors(errors)
    return CleanReport(
        summary=summary,
        key_points=points,
        quotes=quotes,
        theme_ids=[theme.id for theme in chosen if theme.id is not None],
        new_themes=new_names,
    )


def _check_quote(answer: QuoteAnswer, index: int, errors: dict[str, str]) -> NewQuote | None:
    """A validated quote, None for an empty slot (a pre-filled quote cleared is no quote, so
    nothing is copied); problems go into errors."""
    text = (answer.text or "").strip()
    role = _one_line(answer.role)
    place = _one_line(answer.place)
    if not text:
        if role or place or answer.consent:
            errors[quote_field("text", index)] = (
                "Add the quote, or clear its role, place and consent."
            )
        return None
    if problem := _too_long("The quote", text, QUOTE_MAX):
        errors[quote_field("text", index)] = problem
    if not role:
        errors[quote_field("role", index)] = (
            "Give the speaker's role (e.g. Member) so the quote can be attributed."
        )
    elif problem := _too_long("The role", role, ATTRIBUTE_MAX):
        errors[quote_field("role", index)] = problem
    if problem := _too_long("The place", place, ATTRIBUTE_MAX):
        errors[quote_field("place", index)] = problem
    return NewQuote(
        text=text,
        speaker_role=role or None,
        speaker_place=place or None,
        consent=answer.consent,
        copied_from=answer.copied_from,
    )
