"""Session summaries: what `/summary` and a session's end post. No Slack types here.

`requests` reads what `/summary` accepts, `model` is what a summary shows, `effects` is what
summaries owe Slack (outbox rows), `service` gathers summaries and queues them.
"""

from bot.summaries.effects import (
    SUMMARY_EDIT,
    SUMMARY_FINAL,
    SUMMARY_INTERIM,
    SUMMARY_QUOTE_WITHDRAWN,
    final_summary,
    interim_summary,
    summaries_without_quote,
    summary_edit,
)
from bot.summaries.model import PollSummary, RoomSummary, SessionSummary
from bot.summaries.requests import (
    SUMMARY_SPEC,
    InterimSummaryRequest,
    SummaryCommand,
    SummaryHelp,
    parse_summary_command,
)
from bot.summaries.service import SummaryService

__all__ = [
    "SUMMARY_EDIT",
    "SUMMARY_FINAL",
    "SUMMARY_INTERIM",
    "SUMMARY_QUOTE_WITHDRAWN",
    "SUMMARY_SPEC",
    "InterimSummaryRequest",
    "PollSummary",
    "RoomSummary",
    "SessionSummary",
    "SummaryCommand",
    "SummaryHelp",
    "SummaryService",
    "final_summary",
    "interim_summary",
    "parse_summary_command",
    "summaries_without_quote",
    "summary_edit",
]
