"""Timed polls: parsing `/poll`, voting, tallies, closing, and what they owe Slack. No Slack here.

Where each behaviour lives:
- `requests`: `/poll`'s spec and parsing, and the form's validation (one set of rules).
- `results`: what operations return (`PollState`, `VoteRecorded`, `PollClosed`, ...).
- `service`: `PollService`, launching; its parts `reading`, `voting`, `closing`, `showing`.
- `effects`: the outbox effects (post, live tally, final results, confirmations) and their pace.
- `jobs`: the scheduled wake-ups' ids and retry delays.
"""

from __future__ import annotations

from bot.polls.effects import (
    LIVE_UPDATE_INTERVAL,
    LIVE_UPDATE_SPACING,
    POLL_FINAL,
    POLL_LIVE,
    POLL_POST,
    POLL_VOTED,
    POLL_VOTED_ANONYMOUS,
)
from bot.polls.jobs import FORGET_HISTORY_JOB_ID, FORGET_HISTORY_RETRY, close_job_id
from bot.polls.requests import (
    CLOSE_SPEC,
    DEFAULT_DURATION,
    DERIVED_KEY_MAX,
    FORM_DURATION,
    FORM_KEY,
    FORM_OPTIONS,
    FORM_QUESTION,
    MAX_DURATION,
    MIN_DURATION,
    MIN_OPTIONS,
    POLL_EXAMPLE,
    POLL_SPEC,
    POLL_USAGE,
    FormProblem,
    PollRequest,
    check_duration,
    check_options,
    check_question,
    clean_option,
    derive_key,
    normalise_key,
    parse_poll_text,
    read_form,
    slug,
    unquoted_question,
)
from bot.polls.results import (
    NO_CHOICE,
    NOT_A_POLL_BUTTON,
    NOTHING_OPEN,
    UNKNOWN_POLL,
    AlreadyVoted,
    Click,
    ClosedNow,
    Counted,
    Launched,
    PollClosed,
    PollState,
    VoteOutcome,
    VoteRecorded,
    bar_cells,
)
from bot.polls.service import PollService

__all__ = [
    "CLOSE_SPEC",
    "DEFAULT_DURATION",
    "DERIVED_KEY_MAX",
    "FORGET_HISTORY_JOB_ID",
    "FORGET_HISTORY_RETRY",
    "FORM_DURATION",
    "FORM_KEY",
    "FORM_OPTIONS",
    "FORM_QUESTION",
    "LIVE_UPDATE_INTERVAL",
    "LIVE_UPDATE_SPACING",
    "MAX_DURATION",
    "MIN_DURATION",
    "MIN_OPTIONS",
    "NOTHING_OPEN",
    "NOT_A_POLL_BUTTON",
    "NO_CHOICE",
    "POLL_EXAMPLE",
    "POLL_FINAL",
    "POLL_LIVE",
    "POLL_POST",
    "POLL_SPEC",
    "POLL_USAGE",
    "POLL_VOTED",
    "POLL_VOTED_ANONYMOUS",
    "UNKNOWN_POLL",
    "AlreadyVoted",
    "Click",
    "ClosedNow",
    "Counted",
    "FormProblem",
    "Launched",
    "PollClosed",
    "PollRequest",
    "PollService",
    "PollState",
    "VoteOutcome",
    "VoteRecorded",
    "bar_cells",
    "check_duration",
    "check_options",
    "check_question",
    "clean_option",
    "close_job_id",
    "derive_key",
    "normalise_key",
    "parse_poll_text",
    "read_form",
    "slug",
    "unquoted_question",
]
