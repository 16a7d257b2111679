"""Breakout rounds and report-backs: rooms, timers, moves, late arrivals. No Slack here.

Where each behaviour lives:
- `requests`: `/breakout`, `/breakout move` and `/report`: their specs, rules and parsing.
- `report_form`: the report-back form's fields, limits and validation.
- `timing`: when the warning and the reminder come, and the wake-ups' job ids.
- `results`: what operations return (`RoundView`, `RoundStarted`, `ReportSaved`, ...).
- `effects`: what rounds owe Slack, as outbox effects (kinds, keys, targets).
- `zoom_effects`: what rounds on Zoom owe the facilitator (the CSV, the list to paste).
- `service`: `RoomService`; its parts `reading`, `zoom`, `rounds`, `people` and `reports`.
"""

from __future__ import annotations

from bot.rooms.effects import KINDS
from bot.rooms.quotes import already_withdrawn, quote_label, unknown_quote
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
    PostedNote,
    QuoteWithdrawn,
    ReportContent,
    ReportForm,
    ReportSaved,
    RoomChange,
    RoomView,
    RoomWhereabouts,
    RoundEnded,
    RoundStarted,
    RoundView,
    ZoomNote,
    ZoomRoomStatus,
    room_name,
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
from bot.rooms.zoom import MEETING_STARTED, PREASSIGN_TASK, preassign_task_key
from bot.rooms.zoom_effects import ZOOM_KINDS

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
    "MEETING_STARTED",
    "MIN_TIME",
    "MOVE_SPEC",
    "NEW_THEMES_MAX",
    "PREASSIGN_TASK",
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
    "ZOOM_KINDS",
    "BreakoutRequest",
    "CleanReport",
    "FormErrors",
    "MoveRequest",
    "PostedNote",
    "QuoteAnswer",
    "QuoteWithdrawn",
    "ReportAnswers",
    "ReportContent",
    "ReportForm",
    "ReportSaved",
    "RoomChange",
    "RoomService",
    "RoomView",
    "RoomWhereabouts",
    "RoundEnded",
    "RoundStarted",
    "RoundView",
    "ZoomNote",
    "ZoomRoomStatus",
    "already_withdrawn",
    "end_job_id",
    "parse_breakout",
    "parse_breakout_text",
    "parse_move_text",
    "preassign_task_key",
    "quote_field",
    "quote_label",
    "remind_job_id",
    "room_name",
    "unknown_quote",
    "validate_report",
    "warn_job_id",
    "warning_time",
]
