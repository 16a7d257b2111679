"""Breakout rounds and report-backs: rooms, timers, moves, late arrivals. No Slack here.

Where each behaviour lives:
- `requests`: `/breakout`, `/breakout move` and `/report`: their specs, rules and parsing.
- `report_form`: the report-back form's fields, limits and validation.
- `timing`: when the warning and the reminder come, and the wake-ups' job ids.
- `results`: what operations return (`RoundView`, `RoundStarted`, `ReportSaved`, ...).
- `effects`: what rounds owe Slack, as outbox effects (kinds, keys, targets).
- `service`: `RoomService`; its parts `reading`, `rounds`, `people` and `reports`.
"""

from __future__ import annotations

from bot.rooms.effects import KINDS
from bot.rooms.report_form import (
    FIELD_KEY_POINTS,
    FIELD_NEW_THEMES,
    FIELD_ROOM,
    FIELD_SUMMARY,
    FIELD_THEMES,
    KEY_POINTS_LINES,
    KEY_POINTS_MAX,
    NEW_THEMES_MAX,
    QUOTE_MAX,
    QUOTES_MAX,
    SUMMARY_MAX,
    THEME_MAX,
    THEMES_PER_REPORT,
    CleanReport,
    FormErrors,
    QuoteAnswer,
    ReportAnswers,
    quote_field,
    validate_report,
)
from bot.rooms.requests import (
    BREAKOUT_SPEC,
    BREAKOUT_USAGE,
    DEFAULT_TIME,
    END_SPEC,
    MAX_TIME,
    MIN_TIME,
    MOVE_SPEC,
    PROMPT_MAX,
    REPORT_SPEC,
    ROOMS_MAX,
    SEED_MAX,
    SIZE_MAX,
    BreakoutRequest,
    MoveRequest,
    parse_breakout,
    parse_breakout_text,
    parse_move_text,
)
from bot.rooms.results import (
    ReportContent,
    ReportForm,
    ReportSaved,
    RoomChange,
    RoomView,
    RoundEnded,
    RoundStarted,
    RoundView,
)
from bot.rooms.service import RoomService
from bot.rooms.timing import (
    REMINDER_AFTER,
    SHORT_ROUND,
    WARNING_BEFORE,
    end_job_id,
    remind_job_id,
    warn_job_id,
    warning_time,
)

__all__ = [
    "BREAKOUT_SPEC",
    "BREAKOUT_USAGE",
    "DEFAULT_TIME",
    "END_SPEC",
    "FIELD_KEY_POINTS",
    "FIELD_NEW_THEMES",
    "FIELD_ROOM",
    "FIELD_SUMMARY",
    "FIELD_THEMES",
    "KEY_POINTS_LINES",
    "KEY_POINTS_MAX",
    "KINDS",
    "MAX_TIME",
    "MIN_TIME",
    "MOVE_SPEC",
    "NEW_THEMES_MAX",
    "PROMPT_MAX",
    "QUOTES_MAX",
    "QUOTE_MAX",
    "REMINDER_AFTER",
    "REPORT_SPEC",
    "ROOMS_MAX",
    "SEED_MAX",
    "SHORT_ROUND",
    "SIZE_MAX",
    "SUMMARY_MAX",
    "THEMES_PER_REPORT",
    "THEME_MAX",
    "WARNING_BEFORE",
    "BreakoutRequest",
    "CleanReport",
    "FormErrors",
    "MoveRequest",
    "QuoteAnswer",
    "ReportAnswers",
    "ReportContent",
    "ReportForm",
    "ReportSaved",
    "RoomChange",
    "RoomService",
    "RoomView",
    "RoundEnded",
    "RoundStarted",
    "RoundView",
    "end_job_id",
    "parse_breakout",
    "parse_breakout_text",
    "parse_move_text",
    "quote_field",
    "remind_job_id",
    "validate_report",
    "warn_job_id",
    "warning_time",
]
