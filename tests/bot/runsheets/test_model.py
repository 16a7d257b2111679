"""Run sheet models: what each step gives the bot, one-line summaries, the JSON round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from bot.parsing import UsageError
from bot.polls.requests import PollRequest, parse_poll_text
from bot.rooms.requests import BreakoutRequest, parse_breakout_text
from bot.runsheets import BreakoutStep, NoteStep, PollStep, RunSheet, TalkStep

SHEET = {
    "name": "tour",
    "title": "A tour",
    "steps": [
        {"talk": "Welcome", "speaker": "Chair", "duration": "5m"},
        {
            "poll": "Has the party drifted too far from its trade union roots?",
            "key": "Union Roots",
            "options": ["Agree", "Disagree", "Not  sure"],
            "duration": "1m30s",
            "anonymous": True,
        },
        {"breakout": "What would bring people back?", "size": 5, "mode": "mix:places"},
        {"breakout": "One change?", "rooms": 6, "duration": "20m"},
        {"note": "Remind people the report goes out in January."},
    ],
}


def _sheet() -> RunSheet:
    return RunSheet.model_validate(SHEET)


def test_json_round_trip_keeps_every_field_and_duration() -> None:
    sheet = _sheet()
    stored = sheet.model_dump_json()
    assert '"duration":"1m30s"' in stored  # durations are stored as people write them
    again = RunSheet.model_validate_json(stored)
    assert again == sheet
    assert [step.kind for step in again.steps] == ["talk", "poll", "breakout", "breakout", "note"]
    poll = again.steps[1]
    assert isinstance(poll, PollStep)
    assert poll.duration == timedelta(seconds=90)
    breakout = again.steps[2]
    assert isinstance(breakout, BreakoutStep)
    assert breakout.duration == timedelta(minutes=15)  # the /breakout default, stored


def test_a_poll_step_is_the_poll_the_command_would_launch() -> None:
    poll = _sheet().steps[1]
    assert isinstance(poll, PollStep)
    typed = parse_poll_text(
        '"Has the party drifted too far from its trade union roots?" "Agree" "Disagree" '
        '"Not  sure" --time 1m30s --anonymous --key "Union Roots"'
    )
    assert not isinstance(typed, UsageError)
    assert poll.poll_request() == typed
    assert poll.poll_request() == PollRequest(
        question="Has the party drifted too far from its trade union roots?",
        options=("Agree", "Disagree", "Not sure"),
        duration=timedelta(seconds=90),
        anonymous=True,
        key="union-roots",
    )
    assert poll.question == poll.poll


def test_a_breakout_step_is_the_round_the_command_would_open() -> None:
    sized, counted = _sheet().steps[2:4]
    assert isinstance(sized, BreakoutStep)
    assert isinstance(counted, BreakoutStep)
    typed = parse_breakout_text(
        '--size 5 --mode mix:places --prompt "What would bring people back?"'
    )
    assert sized.breakout_request() == typed
    request = counted.breakout_request()
    assert isinstance(request, BreakoutRequest)
    assert (request.rooms, request.size, request.duration, request.mode.label, request.seed) == (
        6,
        None,
        timedelta(minutes=20),
        "random",
        None,
    )
    assert counted.prompt == "One change?"


def test_talk_and_note_fields() -> None:
    talk, note = _sheet().steps[0], _sheet().steps[4]
    assert isinstance(talk, TalkStep)
    assert (talk.title, talk.speaker, talk.duration) == ("Welcome", "Chair", timedelta(minutes=5))
    assert isinstance(note, NoteStep)
    assert note.text == "Remind people the report goes out in January."


def test_summaries_are_one_line_each() -> None:
    assert [step.summary() for step in _sheet().steps] == [
        "Talk: Welcome — Chair (5m)",
        "Poll: Has the party drifted too far from its trade union roots? "
        "(Agree / Disagree / Not sure, 1m30s, anonymous)",
        "Breakout: What would bring people back? (5 per room, mix:place, 15m)",
        "Breakout: One change? (6 rooms, random, 20m)",
        "Note: Remind people the report goes out in January.",
    ]
    long = PollStep(poll="Q" * 300, key="k", options=[f"option {n}" for n in range(20)])
    line = long.summary()
    assert "\n" not in line
    assert line.startswith("Poll: " + "Q" * 99 + "…")
    assert line.endswith("(20 options, 2m)")


def test_outline_counts_each_kind() -> None:
    assert _sheet().outline() == "5 steps (1 talk, 1 poll, 2 breakout rounds, 1 note)"


def test_strict_types_in_code_too() -> None:
    with pytest.raises(ValidationError, match="multi"):
        PollStep.model_validate({"poll": "Q", "key": "k", "options": ["a", "b"], "multi": "yes"})
    with pytest.raises(ValidationError, match="alone is not a duration"):
        TalkStep.model_validate({"talk": "Hi", "duration": 5})


def test_repeated_poll_keys_are_refused_for_sheets_built_in_code() -> None:
    poll = {"poll": "Q", "key": "same", "options": ["a", "b"]}
    with pytest.raises(ValidationError, match="steps 1 and 2 both use the poll key “same”"):
        RunSheet.model_validate({"name": "x", "steps": [poll, {**poll, "key": "Same"}]})


def test_steps_given_as_models_keep_their_kind() -> None:
    sheet = RunSheet(name="x", steps=[TalkStep(talk="Hi"), NoteStep(note="n")])
    assert RunSheet.model_validate_json(sheet.model_dump_json()) == sheet
