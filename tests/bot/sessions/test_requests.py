"""Reading `/session` text and check-in answers into typed requests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import UsageError
from bot.sessions import (
    EndRequest,
    SessionHelp,
    StartRequest,
    StatusRequest,
    clean_answer,
    parse_session_command,
    parse_start_text,
)


@pytest.mark.parametrize("text", ["", "help", "  HELP ", "start help", "end help"])
def test_help_is_asked_for_bare_or_after_a_subcommand(text: str) -> None:
    assert parse_session_command(text) == SessionHelp()


def test_each_subcommand_is_its_request() -> None:
    assert parse_session_command('start "Durham" --area Durham') == StartRequest(
        title="Durham", area="Durham", group_type=None, zoom_meeting_id=None
    )
    assert parse_session_command("status") == StatusRequest()
    assert parse_session_command("end") == EndRequest()


def test_an_unknown_subcommand_or_extra_words_are_usage_errors() -> None:
    unknown = parse_session_command("stop now")
    assert isinstance(unknown, UsageError)
    assert unknown.message == "Unknown subcommand “stop”. Use start, status, end or help."
    assert isinstance(parse_session_command("end now"), UsageError)
    assert isinstance(parse_session_command("start --zoom nonsense Durham"), UsageError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), ("   ", None), (" a  b ", "a b"), ("x" * 100, "x" * 80)],
)
def test_clean_answer(raw: str | None, expected: str | None) -> None:
    assert clean_answer(raw, 80) == expected


@given(st.text(max_size=300))
def test_parse_start_text_never_raises(text: str) -> None:
    result = parse_start_text(text)
    assert isinstance(result, StartRequest | UsageError)
    if isinstance(result, StartRequest):
        assert 0 < len(result.title) <= 150
