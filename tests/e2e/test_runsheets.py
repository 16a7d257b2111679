"""Run sheets end to end: `/session start --runsheet`, `/next`, `/next skip`, the controls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlmodel import select

from bot.runsheets import RunSheet, load_runsheet
from bot.runsheets.library import RunSheetLibrary
from bot.views.runsheets import CONTROLS_BLOCK, NEXT_ACTION, SKIP_ACTION
from storage.models import ListeningSession
from storage.polls import Poll
from storage.runsheets import SessionStep
from tests.e2e.conftest import CHANNEL, FACILITATOR, PARTICIPANT, RunningBot, ack_text, all_text
from tests.e2e.rooms_helpers import check_in, outbox_sent
from tests.harness.waiting import eventually

SHEET = """\
name: test-tour
title: Test tour
steps:
  - talk: Welcome from the chair
    speaker: Chair
    duration: 5m
  - poll: Has the party drifted too far from its trade union roots?
    key: union-roots
    options: [Agree, Disagree, Not sure]
  - breakout: What would bring people back?
    rooms: 2
  - note: Thank everyone for coming.
"""
DM = "D" + FACILITATOR[1:]


def _store(bot: RunningBot, text: str = SHEET) -> RunSheet:
    sheet = load_runsheet(text)
    assert isinstance(sheet, RunSheet), sheet
    RunSheetLibrary(bot.services.db, bot.clock).add(sheet, text)
    return sheet


def _session(bot: RunningBot) -> ListeningSession:
    found = bot.services.sessions.active_session(CHANNEL)
    assert found is not None
    return found


def _start(bot: RunningBot) -> ListeningSession:
    _store(bot)
    assert bot.command("/session", 'start "Durham" --runsheet test-tour').text == ""
    eventually(lambda: bot.services.sessions.active_session(CHANNEL) is not None)
    outbox_sent(bot)
    return _session(bot)


def _steps(bot: RunningBot) -> list[SessionStep]:
    with bot.services.db.read() as db:
        return list(db.exec(select(SessionStep).order_by(SessionStep.position)).all())  # type: ignore[arg-type]


def _controls(bot: RunningBot) -> dict[str, Any]:
    """The facilitator's control message as it is now (the fake's stored DM)."""
    messages = bot.slack.messages(DM)
    assert len(messages) == 1, "one control message, edited in place"
    return messages[0]


def _buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block["elements"]
    }


def test_start_with_a_run_sheet_sends_the_facilitator_controls(bot: RunningBot) -> None:
    session = _start(bot)
    assert session.runsheet_id is not None
    controls = _controls(bot)
    text = all_text(controls["blocks"])
    assert "Welcome from the chair" in text
    assert "Step 1 of 4 is next" in text
    buttons = _buttons(controls)
    assert set(buttons) == {NEXT_ACTION, SKIP_ACTION}
    assert buttons[NEXT_ACTION]["value"] == f"{session.id}:0"


def test_status_shows_the_agenda_and_where_the_session_is(bot: RunningBot) -> None:
    _start(bot)
    bot.command("/next", "")
    status = ack_text(bot.command("/session", "status"))
    assert "Run sheet:" in status
    assert "Test tour (v1)" in status
    assert "✅ 1. Talk: Welcome from the chair" in status
    assert "▶️ 2. Poll: Has the party drifted" in status


def test_next_runs_each_step_in_order(bot: RunningBot) -> None:
    session = _start(bot)
    reply = ack_text(bot.command("/next", ""))
    assert "Step 1" in reply
    assert "Next:" in reply
    outbox_sent(bot)
    talk = [m for m in bot.slack.messages(CHANNEL) if "Now:" in m["text"]]
    assert len(talk) == 1
    assert "Welcome from the chair" in all_text(talk[0]["blocks"])

    ack_text(bot.command("/next", ""))
    with bot.services.db.read() as db:
        polls = list(db.exec(select(Poll)).all())
    assert [p.key for p in polls] == ["union-roots"]  # the run sheet's key, for the tour report
    steps = _steps(bot)
    assert [(s.position, s.outcome, s.poll_id) for s in steps] == [
        (0, "done", None),
        (1, "done", polls[0].id),
    ]
    outbox_sent(bot)
    assert "Step 3 of 4 is next" in all_text(_controls(bot)["blocks"])
    assert _session(bot).runsheet_position == 2
    assert session.id == _session(bot).id


def test_skip_marks_the_step_skipped_and_runs_nothing(bot: RunningBot) -> None:
    _start(bot)
    reply = ack_text(bot.command("/next", "skip"))
    assert "Skipped step 1" in reply
    outbox_sent(bot)
    assert not [m for m in bot.slack.messages(CHANNEL) if "Now:" in m["text"]]
    assert [(s.position, s.outcome) for s in _steps(bot)] == [(0, "skipped")]
    assert "⏭️ 1. Talk" in ack_text(bot.command("/session", "status"))


def test_a_round_needs_people_and_blocks_next_while_it_runs(bot: RunningBot) -> None:
    _start(bot)
    bot.command("/next", "skip")
    bot.command("/next", "skip")
    refused = ack_text(bot.command("/next", ""))  # nobody has checked in
    assert "checked in" in refused
    assert _session(bot).runsheet_position == 2, refused
    for user in ("U0A1", "U0A2", "U0A3", "U0A4"):
        check_in(bot, user)
    started = ack_text(bot.command("/next", ""))
    assert _session(bot).runsheet_position == 3, started
    blocked = ack_text(bot.command("/next", ""))
    assert "/breakout end" in blocked
    assert _session(bot).runsheet_position == 3


def test_the_end_of_the_agenda_says_so(bot: RunningBot) -> None:
    _start(bot)
    for _ in range(4):
        bot.command("/next", "skip")
    reply = ack_text(bot.command("/next", ""))
    assert "last step" in reply
    assert "/session end" in reply
    assert len(_steps(bot)) == 4


def test_only_facilitators_move_the_run_sheet(bot: RunningBot) -> None:
    _start(bot)
    reply = ack_text(bot.command("/next", "", user=PARTICIPANT))
    assert "Only the session's facilitators" in reply
    assert _steps(bot) == []
    assert _session(bot).runsheet_position == 0


def test_a_redelivered_next_runs_once(bot: RunningBot) -> None:
    _start(bot)
    payload = bot.command_payload("/next", "")
    bot.command("/next", "", payload=payload)
    bot.command("/next", "", payload=payload, retry_num=1)
    assert len(_steps(bot)) == 1


@pytest.mark.parametrize("text", ["", "skip"])
def test_next_without_a_run_sheet_says_how_to_get_one(bot: RunningBot, text: str) -> None:
    assert bot.command("/session", 'start "Durham"').text == ""
    eventually(lambda: bot.services.sessions.active_session(CHANNEL) is not None)
    reply = ack_text(bot.command("/next", text))
    assert "no run sheet" in reply
    assert "--runsheet" in reply


def test_next_without_a_session(bot: RunningBot) -> None:
    assert "/session start" in ack_text(bot.command("/next", ""))


def test_next_help_and_bad_words(bot: RunningBot) -> None:
    assert "/next skip" in ack_text(bot.command("/next", "help"))
    bad = ack_text(bot.command("/next", "jump 3"))
    assert "takes nothing, or `skip`" in bad
    assert "Usage" in bad


def test_an_unknown_run_sheet_starts_nothing(bot: RunningBot) -> None:
    _store(bot)
    reply = ack_text(bot.command("/session", 'start "Durham" --runsheet no-such-sheet'))
    assert "no run sheet called `no-such-sheet`" in reply
    assert "`test-tour`" in reply
    assert bot.services.sessions.active_session(CHANNEL) is None


def test_a_malformed_run_sheet_name_is_a_usage_error(bot: RunningBot) -> None:
    reply = ack_text(bot.command("/session", 'start "Durham" --runsheet "<!channel>"'))
    assert "--runsheet takes the name" in reply
    assert "<!channel>" not in reply
    assert bot.services.sessions.active_session(CHANNEL) is None


def test_the_next_button_runs_the_step_it_shows_and_an_old_one_is_refused(
    bot: RunningBot,
) -> None:
    session = _start(bot)
    value = _buttons(_controls(bot))[NEXT_ACTION]["value"]
    ts = _controls(bot)["ts"]
    click = bot.click(
        NEXT_ACTION, value, user=FACILITATOR, channel=DM, message_ts=ts, block_id=CONTROLS_BLOCK
    )
    assert click.status_code == 200
    eventually(lambda: len(_steps(bot)) == 1, what="the step run from the button")
    outbox_sent(bot)
    assert _buttons(_controls(bot))[NEXT_ACTION]["value"] == f"{session.id}:1"
    # The same (now old) button again: refused, nothing run twice.
    bot.click(
        NEXT_ACTION, value, user=FACILITATOR, channel=DM, message_ts=ts, block_id=CONTROLS_BLOCK
    )
    eventually(
        lambda: any(
            "already been run" in all_text(c.args) for c in bot.slack.private_replies(FACILITATOR)
        ),
        what="the refusal",
    )
    assert len(_steps(bot)) == 1


def test_the_skip_button_and_a_participant_pressing_it(bot: RunningBot) -> None:
    session = _start(bot)
    value = f"{session.id}:0"
    bot.click(SKIP_ACTION, value, user=PARTICIPANT, channel=DM, block_id=CONTROLS_BLOCK)
    eventually(
        lambda: any(
            "Only the session's facilitators" in all_text(c.args)
            for c in bot.slack.private_replies(PARTICIPANT)
        ),
        what="the refusal",
    )
    assert _steps(bot) == []
    bot.click(SKIP_ACTION, value, user=FACILITATOR, channel=DM, block_id=CONTROLS_BLOCK)
    eventually(lambda: [s.outcome for s in _steps(bot)] == ["skipped"])


def test_ending_the_session_shows_the_controls_as_ended(bot: RunningBot) -> None:
    _start(bot)
    bot.command("/session", "end")
    outbox_sent(bot)
    controls = _controls(bot)
    assert "The session has ended" in all_text(controls["blocks"])
    assert _buttons(controls) == {}


def test_facilitators_pressing_next_at_once_run_each_step_once(bot: RunningBot) -> None:
    _start(bot)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: ack_text(bot.command("/next", "")), range(6)))
    # The talk and the poll run; the round cannot (nobody checked in); nothing runs twice.
    assert [(s.position, s.outcome) for s in _steps(bot)] == [(0, "done"), (1, "done")]
    with bot.services.db.read() as db:
        assert len(db.exec(select(Poll)).all()) == 1
    assert _session(bot).runsheet_position == 2, answers
