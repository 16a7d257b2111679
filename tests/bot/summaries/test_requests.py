"""Reading `/summary` text into a typed request."""

from __future__ import annotations

from bot.parsing import UsageError
from bot.summaries import InterimSummaryRequest, SummaryHelp, parse_summary_command


def test_summary_takes_nothing_but_help() -> None:
    assert parse_summary_command("") == InterimSummaryRequest()
    assert parse_summary_command(" help ") == SummaryHelp()
    assert isinstance(parse_summary_command("now please"), UsageError)
