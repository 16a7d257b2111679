"""Withdrawing a quote end to end: the Withdraw button on a report-back's thread post (for the
session's facilitators and the room's reporter), `listening-bot quote withdraw` for organisers;
gone from every posted message (edited in place through the outbox), every export and both
report formats; refused for anyone else and for bad ids; caught up after Slack was down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.rooms import quote_field
from bot.views.reports import WITHDRAW_QUOTE_ACTION
from storage import outbox as outbox_store
from storage.rooms import NewQuote
from tests.e2e.conftest import CHANNEL, FACILITATOR, RunningBot, ack_text, all_text
from tests.e2e.quote_helpers import (
    SUMMARY_CHANNEL,
    FormQuote,
    button_in,
    cli,
    click_withdraw,
    has_id,
    shown_in_channels,
    stored_quotes,
    summary_messages,
)
from tests.e2e.rooms_helpers import (
    check_in,
    form_values,
    members,
    open_report,
    outbox_sent,
    people,
    rooms_of,
    send_retries,
    start_round,
    start_session,
    submit_report,
    thread,
)
from tests.harness.tour_data import add_report_backs
from tests.harness.waiting import eventually

WITHDRAWN = "The last bus is at 7pm and I walk home in the dark."
KEPT = "Fares went up twice this year."
PRIVATE = "Do not print what I said."


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL}


def _button_for(bot: RunningBot, text: str) -> tuple[str, str]:
    """The newest thread post showing `text` and its Withdraw button's value."""
    return button_in(reversed(bot.slack.messages(CHANNEL)), text)


def _report_twice_and_end(bot: RunningBot) -> str:
    """A session whose Room 1 reported back twice (both versions quoting WITHDRAWN), with an
    interim summary and the final one posted in both channels. Returns Room 1's reporter."""
    start_session(bot)
    for user in people(4):
        check_in(bot, user, place="Durham")
    breakout_round = start_round(bot, "2 --seed 4", rooms=2)
    assert breakout_round.id is not None
    reporter = sorted(members(bot, breakout_round.id)[1])[0]
    quotes: list[FormQuote] = [
        (WITHDRAWN, "Member", "Durham", True),
        (KEPT, "Councillor", "Durham", True),
        (PRIVATE, "Member", None, False),
    ]
    view = open_report(bot, reporter)
    assert submit_report(bot, reporter, view, form_values("Buses.", quotes=quotes)).text == ""
    outbox_sent(bot)
    view = open_report(bot, reporter)  # the form offers version 1's quotes again
    assert submit_report(bot, reporter, view, form_values("Buses!", quotes=quotes)).text == ""
    outbox_sent(bot)
    # The round ends before the session does: each step's posts in the channel then go out one
    # after another (one target), never in parallel with another target's.
    assert "ended" in ack_text(bot.command("/breakout", "end"))
    outbox_sent(bot)
    assert bot.command("/summary", "").status_code == 200
    eventually(lambda: len(summary_messages(bot, SUMMARY_CHANNEL)) == 1, what="interim summary")
    assert bot.command("/session", "end").text == ""
    eventually(lambda: len(summary_messages(bot, SUMMARY_CHANNEL)) == 2, what="final summary")
    outbox_sent(bot)
    room = rooms_of(bot, breakout_round.id)[0]
    reported = [
        m for m in thread(bot, room.message_ts or "") if m["text"].startswith("Room 1 report-back")
    ]
    assert len(reported) == 2  # both versions, in full
    posted = shown_in_channels(bot)
    # before: in both thread posts and all four summaries (two in each channel)
    assert posted.count(WITHDRAWN) == 2 + 4
    assert PRIVATE not in posted
    return reporter


def _gone_everywhere_but_the_rest_is_there(bot: RunningBot) -> None:
    outbox_sent(bot)
    posted = shown_in_channels(bot)
    assert WITHDRAWN not in posted
    assert posted.count(KEPT) == 2 + 4  # the other quote stays everywhere
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        assert len(summary_messages(bot, channel)) == 2
        for summary in summary_messages(bot, channel):
            assert "Buses!" in all_text(summary["blocks"])  # edited, not emptied
    assert "1 quote was withdrawn" in posted
    # the compact channel post counts what is left
    compact = next(
        m for m in bot.slack.messages(CHANNEL) if m["ts"] == rooms_of(bot, 1)[0].report_ts
    )
    assert "1 quote ·" in all_text(compact["blocks"])
    # stored: every version's copy is withdrawn and blanked
    withdrawn = [q for q in stored_quotes(bot) if q.withdrawn_at is not None]
    assert len(withdrawn) == 2
    assert all(q.text == "" and q.speaker_role is None for q in withdrawn)
    assert WITHDRAWN not in json.dumps([q.model_dump(mode="json") for q in stored_quotes(bot)])


def test_a_facilitator_withdraws_a_quote_with_its_button(bot: RunningBot) -> None:
    _report_twice_and_end(bot)
    ts, value = _button_for(bot, WITHDRAWN)
    reply = click_withdraw(bot, value, FACILITATOR, ts)
    assert f"Quote q{value} from Room 1" in reply
    assert "is withdrawn (in all 2 versions" in reply
    _gone_everywhere_but_the_rest_is_there(bot)
    assert {q.withdrawn_by for q in stored_quotes(bot) if q.withdrawn_at} == {"facilitator"}
    # pressing it again (an older post's button) is refused, nothing changes
    assert "already withdrawn" in click_withdraw(bot, value, FACILITATOR, ts)


def test_the_rooms_reporter_withdraws_a_quote_and_the_form_no_longer_offers_it(
    bot: RunningBot,
) -> None:
    start_session(bot)
    for user in people(4):
        check_in(bot, user, place="Durham")
    breakout_round = start_round(bot, "2 --seed 4", rooms=2)
    assert breakout_round.id is not None
    reporter = sorted(members(bot, breakout_round.id)[1])[0]
    quotes: list[FormQuote] = [(WITHDRAWN, "Member", "Durham", True), (KEPT, "Member", None, True)]
    view = open_report(bot, reporter)
    assert submit_report(bot, reporter, view, form_values("Buses.", quotes=quotes)).text == ""
    outbox_sent(bot)
    ts, value = _button_for(bot, WITHDRAWN)
    assert "is withdrawn" in click_withdraw(bot, value, reporter, ts)
    outbox_sent(bot)
    assert WITHDRAWN not in all_text(bot.slack.messages(CHANNEL))
    assert KEPT in all_text(bot.slack.messages(CHANNEL))
    assert {q.withdrawn_by for q in stored_quotes(bot) if q.withdrawn_at} == {"reporter"}
    form = open_report(bot, reporter)
    shown = all_text(form["blocks"])
    assert WITHDRAWN not in shown
    assert KEPT in shown
    # the kept quote moved up to the first slot; the second is empty
    first = next(b for b in form["blocks"] if b.get("block_id") == quote_field("text", 1))
    assert first["element"]["initial_value"] == KEPT


def test_someone_else_is_refused_and_nothing_changes(bot: RunningBot) -> None:
    _report_twice_and_end(bot)
    ts, value = _button_for(bot, WITHDRAWN)
    updates = len(bot.slack.calls_to("chat.update"))
    with bot.services.db.read() as db:
        rows_before = len(outbox_store.rows(db))
    reply = click_withdraw(bot, value, "U0NOTHERE", ts)
    assert "Only this session's facilitators and whoever sent Room 1's report-back" in reply
    outbox_sent(bot)
    assert all(q.withdrawn_at is None for q in stored_quotes(bot))
    assert sum(q.text == WITHDRAWN for q in stored_quotes(bot)) == 2
    with bot.services.db.read() as db:
        assert len(outbox_store.rows(db)) == rows_before
    assert len(bot.slack.calls_to("chat.update")) == updates
    assert shown_in_channels(bot).count(WITHDRAWN) == 2 + 4
    # a button that names no quote is refused too
    assert "not from a report-back's quote" in click_withdraw(bot, "x", FACILITATOR, ts)


@pytest.mark.usefixtures("cli_env")
def test_an_organiser_withdraws_a_quote_from_the_command_line(
    bot: RunningBot, capsys: pytest.CaptureFixture[str]
) -> None:
    _report_twice_and_end(bot)
    quote_id = next(q.id for q in stored_quotes(bot) if q.text == WITHDRAWN)
    assert cli("quote", "withdraw", str(quote_id)) == 0
    out = capsys.readouterr().out
    assert f"withdrew quote q{quote_id}" in out
    assert "versions of the report-back" in out
    assert "history of the erased rows is scrubbed too" in out  # or it says it was busy
    assert "Slack" in out.splitlines()[-1]  # who posts the edits (cli_support.who_sends)
    bot.services.outbox.wake()
    eventually(lambda: WITHDRAWN not in shown_in_channels(bot), timeout=10, what="edits posted")
    _gone_everywhere_but_the_rest_is_there(bot)
    assert {q.withdrawn_by for q in stored_quotes(bot) if q.withdrawn_at} == {"organiser"}


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "is not a quote id"),
        ("-3", "is not a quote id"),
        ("１７", "is not a quote id"),
        ("999999", "There is no quote q999999"),
    ],
)
def test_bad_quote_ids_change_nothing(
    bot: RunningBot, capsys: pytest.CaptureFixture[str], typed: str, message: str
) -> None:
    start_session(bot)
    session = bot.services.sessions.active_session(CHANNEL)
    assert session is not None
    assert session.id is not None
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[("Buses", [], [NewQuote(KEPT, "Member", "Durham", True)], [])],
        now=bot.clock.now(),
    )
    with bot.services.db.read() as db:
        rows_before = len(outbox_store.rows(db))
    assert cli("quote", "withdraw", typed) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message in err[0]
    assert [q.text for q in stored_quotes(bot)] == [KEPT]
    assert all(q.withdrawn_at is None for q in stored_quotes(bot))
    with bot.services.db.read() as db:
        assert len(outbox_store.rows(db)) == rows_before


@pytest.mark.usefixtures("cli_env")
def test_withdrawing_twice_is_refused_and_q17_is_accepted(
    bot: RunningBot, capsys: pytest.CaptureFixture[str]
) -> None:
    start_session(bot)
    session = bot.services.sessions.active_session(CHANNEL)
    assert session is not None
    assert session.id is not None
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[("Buses", [], [NewQuote(WITHDRAWN, "Member", "Durham", True)], [])],
        now=bot.clock.now(),
    )
    [quote] = stored_quotes(bot)
    assert cli("quote", "withdraw", f"q{quote.id}") == 0  # as exports print it
    capsys.readouterr()
    with bot.services.db.read() as db:
        rows_before = len(outbox_store.rows(db))
    [before] = stored_quotes(bot)
    assert cli("quote", "withdraw", str(quote.id)) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f"Quote q{quote.id} is already withdrawn" in line
    [after] = stored_quotes(bot)
    assert (after.withdrawn_at, after.withdrawn_by) == (before.withdrawn_at, before.withdrawn_by)
    with bot.services.db.read() as db:
        assert len(outbox_store.rows(db)) == rows_before


@pytest.mark.usefixtures("cli_env")
def test_exports_and_reports_leave_it_out_and_show_quote_ids(
    bot: RunningBot, tmp_path: Path
) -> None:
    start_session(bot)
    session = bot.services.sessions.active_session(CHANNEL)
    assert session is not None
    assert session.id is not None
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[
            (
                "Buses",
                [],
                [
                    NewQuote(WITHDRAWN, "Member", "Durham", True),
                    NewQuote(KEPT, "Councillor", "Durham", True),
                ],
                ["Transport"],
            )
        ],
        now=bot.clock.now(),
    )
    gone, kept = stored_quotes(bot)

    def outputs() -> dict[str, str]:
        texts = {}
        for fmt in ("json", "md"):
            out = tmp_path / f"export.{fmt}"
            assert (
                cli("export", "--session", str(session.id), "--format", fmt, "--out", str(out)) == 0
            )
            texts[fmt] = out.read_text()
        folder = tmp_path / "csv"
        assert (
            cli("export", "--session", str(session.id), "--format", "csv", "--out", str(folder))
            == 0
        )
        texts["csv"] = "\n".join(p.read_text() for p in sorted(folder.iterdir()))
        for suffix in ("html", "md"):
            out = tmp_path / f"report.{suffix}"
            assert cli("report", "--out", str(out)) == 0
            texts[f"report.{suffix}"] = out.read_text()
        return texts

    before = outputs()
    for name, text in before.items():
        assert WITHDRAWN in text, name  # the test can fail: the quote was there
        assert KEPT in text, name
    for name in ("json", "md", "csv", "report.html"):
        assert has_id(before[name], gone.id), name
        assert has_id(before[name], kept.id), name
    assert cli("quote", "withdraw", str(gone.id)) == 0
    after = outputs()
    for name, text in after.items():
        assert WITHDRAWN not in text, name
        assert KEPT in text, name
    for name in ("json", "md", "csv", "report.html"):
        assert has_id(after[name], kept.id), name
        assert not has_id(after[name], gone.id), name
    document = json.loads(after["json"])
    assert document["quotes_withdrawn"] == 1
    [quote] = document["rounds"][0]["rooms"][0]["report_backs"][0]["quotes"]
    assert quote["id"] == f"q{kept.id}"


@pytest.mark.usefixtures("cli_env")
def test_every_part_of_a_split_summary_is_edited(bot: RunningBot) -> None:
    start_session(bot)
    session = bot.services.sessions.active_session(CHANNEL)
    assert session is not None
    assert session.id is not None
    reports: list[tuple[str, list[str], list[NewQuote], list[str]]] = [
        (f"Room {i} says " + "housing costs too much " * 120, [], [], []) for i in range(60)
    ]
    reports.append(("Buses", [], [NewQuote(WITHDRAWN, "Member", "Durham", True)], []))
    add_report_backs(bot.services.db, session_id=session.id, reports=reports, now=bot.clock.now())
    bot.command("/session", "end")
    eventually(lambda: len(summary_messages(bot, SUMMARY_CHANNEL)) > 1, what="split summary")
    outbox_sent(bot)
    parts = len(summary_messages(bot, SUMMARY_CHANNEL))
    assert WITHDRAWN in all_text(summary_messages(bot, SUMMARY_CHANNEL)[-1])
    [quote] = stored_quotes(bot)
    assert cli("quote", "withdraw", str(quote.id)) == 0
    bot.services.outbox.wake()
    eventually(
        lambda: WITHDRAWN not in shown_in_channels(bot), timeout=10, what="every part edited"
    )
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        summaries = summary_messages(bot, channel)
        assert len(summaries) == parts
        text = all_text(summaries)
        assert all(f"Room {i} says" in text for i in range(60))


def test_a_withdrawal_while_slack_is_down_catches_up(bot: RunningBot) -> None:
    _report_twice_and_end(bot)
    ts, value = _button_for(bot, WITHDRAWN)
    bot.slack.fail_next("chat.update", status=503, times=50)
    bot.click(WITHDRAW_QUOTE_ACTION, value, user=FACILITATOR, message_ts=ts)
    bot.slack.wait_for("chat.update", predicate=lambda call: call.failed)
    outbox_sent(bot)
    # the withdrawal is committed; the posts still show the quote until Slack is back
    assert all(not q.text for q in stored_quotes(bot) if q.withdrawn_at)
    assert WITHDRAWN in shown_in_channels(bot)
    with bot.services.db.read() as db:
        waiting = [r for r in outbox_store.rows(db) if ":withdrawn" in r.key and r.sent_at is None]
    assert waiting
    bot.slack.clear_failures("chat.update")
    send_retries(bot, at_most=10)
    _gone_everywhere_but_the_rest_is_there(bot)
