"""Withdrawing a quote the reporter edited between versions, end to end: the form carries each
pre-filled quote's id, so the new version's copy records what it was copied from, and a
withdrawal from any version's post takes every copy out of every post, export and report.
Copies stored without that link are still matched by their text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from storage.rooms import ReportQuote
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
    start_round,
    start_session,
    submit_report,
)
from tests.harness.waiting import eventually

TYPO = "The last bus is at 7pm and I walk home in the dark"
FIXED = "The last bus is at 7pm, and I walk home in the dark."
KEPT = "Fares went up twice this year."


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL}


def _thread_posts(bot: RunningBot) -> list[dict[str, Any]]:
    """Room 1's report-back posts in its thread, oldest version first."""
    return [m for m in bot.slack.messages(CHANNEL) if m["text"].startswith("Room 1 report-back")]


def _button_for(bot: RunningBot, text: str) -> tuple[str, str]:
    """The oldest thread post showing `text` and the value of the Withdraw button beside it."""
    return button_in(_thread_posts(bot), text)


def _withdraw(bot: RunningBot, text: str, user: str = FACILITATOR) -> str:
    """Press the Withdraw button beside `text` as `user`; what they were told privately."""
    ts, value = _button_for(bot, text)
    return click_withdraw(bot, value, user, ts)


def _room_and_reporter(bot: RunningBot) -> str:
    start_session(bot)
    for user in people(4):
        check_in(bot, user, place="Durham")
    breakout_round = start_round(bot, "2 --seed 4", rooms=2)
    assert breakout_round.id is not None
    return sorted(members(bot, breakout_round.id)[1])[0]


def _send(bot: RunningBot, reporter: str, summary: str, quotes: list[FormQuote]) -> None:
    """Open the form (pre-filled from the latest version) and send it with these answers."""
    view = open_report(bot, reporter)
    assert submit_report(bot, reporter, view, form_values(summary, quotes=quotes)).text == ""
    outbox_sent(bot)


def _outputs(tmp_path: Path) -> dict[str, str]:
    """The session's export in every format and the tour report in both."""
    texts = {}
    for fmt in ("json", "md"):
        out = tmp_path / f"export.{fmt}"
        assert cli("export", "--session", "1", "--format", fmt, "--out", str(out)) == 0
        texts[fmt] = out.read_text()
    folder = tmp_path / "csv"
    assert cli("export", "--session", "1", "--format", "csv", "--out", str(folder)) == 0
    texts["csv"] = "\n".join(p.read_text() for p in sorted(folder.iterdir()))
    for suffix in ("html", "md"):
        out = tmp_path / f"report.{suffix}"
        assert cli("report", "--out", str(out)) == 0
        texts[f"report.{suffix}"] = out.read_text()
    return texts


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize("pressed", [TYPO, FIXED], ids=["old-version", "new-version"])
def test_a_quote_edited_between_versions_is_withdrawn_from_every_version(
    bot: RunningBot, tmp_path: Path, pressed: str
) -> None:
    reporter = _room_and_reporter(bot)
    _send(bot, reporter, "Buses.", [(TYPO, "Member", "Durham", True), (KEPT, "Member", None, True)])
    view = open_report(bot, reporter)
    typo, kept = stored_quotes(bot)
    # the form carries the pre-filled quotes' ids, slot by slot
    assert view["private_metadata"] == f"{rooms_of(bot, 1)[0].id}:{typo.id},{kept.id}"
    # the reporter fixes the punctuation and sends version 2
    values = form_values(
        "Buses!", quotes=[(FIXED, "Member", "Durham", True), (KEPT, "Member", None, True)]
    )
    assert submit_report(bot, reporter, view, values).text == ""
    outbox_sent(bot)
    fixed, kept_again = stored_quotes(bot)[2:]
    assert (fixed.text, fixed.copied_from) == (FIXED, typo.id)
    assert kept_again.copied_from == kept.id
    assert "ended" in ack_text(bot.command("/breakout", "end"))
    outbox_sent(bot)
    assert bot.command("/summary", "").status_code == 200
    eventually(lambda: len(summary_messages(bot, SUMMARY_CHANNEL)) == 1, what="interim summary")
    assert bot.command("/session", "end").text == ""
    eventually(lambda: len(summary_messages(bot, SUMMARY_CHANNEL)) == 2, what="final summary")
    outbox_sent(bot)
    posted = shown_in_channels(bot)
    # before: version 1's post has the typo; version 2's post and all four summaries the fix
    assert posted.count(TYPO) == 1
    assert posted.count(FIXED) == 1 + 4
    before = _outputs(tmp_path)
    for name, text in before.items():
        assert FIXED in text, name
        assert KEPT in text, name
    assert TYPO in before["json"]  # the export lists every version's quotes
    assert has_id(before["json"], typo.id)

    reply = _withdraw(bot, pressed)
    assert f"Quote q{typo.id if pressed == TYPO else fixed.id} from Room 1" in reply
    assert "is withdrawn (in all 2 versions" in reply
    outbox_sent(bot)
    posted = shown_in_channels(bot)
    assert TYPO not in posted
    assert FIXED not in posted
    assert posted.count(KEPT) == 2 + 4
    assert [all_text(m).count("1 quote was withdrawn") for m in _thread_posts(bot)] == [1, 1]
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        for summary in summary_messages(bot, channel):
            assert "Buses!" in all_text(summary["blocks"])  # edited, not emptied
    compact = next(
        m for m in bot.slack.messages(CHANNEL) if m["ts"] == rooms_of(bot, 1)[0].report_ts
    )
    assert "1 quote ·" in all_text(compact["blocks"])
    stored = stored_quotes(bot)
    assert [q.id for q in stored if q.withdrawn_at] == [typo.id, fixed.id]
    assert TYPO not in json.dumps([q.model_dump(mode="json") for q in stored])
    after = _outputs(tmp_path)
    for name, text in after.items():
        assert TYPO not in text, name
        assert FIXED not in text, name
        assert KEPT in text, name
    for name in ("json", "md", "csv", "report.html"):
        assert not has_id(after[name], typo.id), name
        assert not has_id(after[name], fixed.id), name
        assert has_id(after[name], kept_again.id), name
    assert json.loads(after["json"])["quotes_withdrawn"] == 2


def test_a_cleared_quote_is_no_quote_and_the_links_follow_the_slots(bot: RunningBot) -> None:
    reporter = _room_and_reporter(bot)
    _send(bot, reporter, "Buses.", [(TYPO, "Member", "Durham", True), (KEPT, "Member", None, True)])
    _, kept = stored_quotes(bot)
    # version 2: the first quote cleared, the second edited
    _send(bot, reporter, "Buses!", [("", None, None, False), (KEPT + "!", "Member", None, True)])
    [edited] = stored_quotes(bot)[2:]
    assert (edited.position, edited.copied_from) == (1, kept.id)
    # the cleared one was not copied: withdrawing it leaves version 2 alone
    reply = _withdraw(bot, TYPO)
    assert "is withdrawn and its text deleted" in reply
    outbox_sent(bot)
    assert TYPO not in shown_in_channels(bot)
    assert KEPT in all_text(_thread_posts(bot)[0])
    # the edited one, withdrawn from version 2's post, goes from version 1's too
    assert "in all 2 versions" in _withdraw(bot, KEPT + "!", user=reporter)
    outbox_sent(bot)
    assert KEPT not in shown_in_channels(bot)
    assert all(q.withdrawn_at for q in stored_quotes(bot))
    assert {q.withdrawn_by for q in stored_quotes(bot)} == {"facilitator", "reporter"}


def test_a_quote_withdrawn_while_the_form_is_open_is_not_brought_back(bot: RunningBot) -> None:
    reporter = _room_and_reporter(bot)
    _send(bot, reporter, "Buses.", [(TYPO, "Member", "Durham", True), (KEPT, "Member", None, True)])
    view = open_report(bot, reporter)  # pre-filled with both quotes
    assert "is withdrawn" in _withdraw(bot, TYPO)
    outbox_sent(bot)
    values = form_values(
        "Buses!", quotes=[(FIXED, "Member", "Durham", True), (KEPT, "Member", None, True)]
    )
    assert submit_report(bot, reporter, view, values).text == ""
    outbox_sent(bot)
    typo, _, copy, _ = stored_quotes(bot)
    assert copy.copied_from == typo.id
    assert (copy.text, copy.withdrawn_by) == ("", "facilitator")
    assert FIXED not in shown_in_channels(bot)
    [_, newest] = _thread_posts(bot)
    assert "1 quote was withdrawn" in all_text(newest)
    assert KEPT in all_text(newest)


def test_copies_stored_without_a_link_are_still_matched_by_their_text(bot: RunningBot) -> None:
    reporter = _room_and_reporter(bot)
    quotes: list[FormQuote] = [(TYPO, "Member", "Durham", True), (KEPT, "Member", None, True)]
    _send(bot, reporter, "Buses.", quotes)
    _send(bot, reporter, "Buses!", quotes)
    # as rows stored before migration 0018 are: no links
    with bot.services.db.transaction() as db:
        db.execute(update(ReportQuote).values(copied_from=None))
    assert shown_in_channels(bot).count(TYPO) == 2
    assert "in all 2 versions" in _withdraw(bot, TYPO)
    outbox_sent(bot)
    assert TYPO not in shown_in_channels(bot)
    assert shown_in_channels(bot).count(KEPT) == 2
    assert [q.text for q in stored_quotes(bot) if q.withdrawn_at] == ["", ""]
