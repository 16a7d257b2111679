"""`person forget` finds an id typed into text (a report-back's summary) and edits every post
that showed it: the report-back's thread post, the room's compact channel post and the final
summary in both channels; `purge` rewrites such text in the sessions it purges only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.cli import main
from storage.models import ListeningSession
from storage.rooms import ReportBack
from tests.e2e.conftest import CHANNEL, RunningBot, all_text
from tests.e2e.quote_helpers import SUMMARY_CHANNEL
from tests.e2e.rooms_helpers import (
    check_in,
    form_values,
    members,
    open_report,
    outbox_sent,
    people,
    reports,
    start_round,
    start_session,
    submit_report,
)
from tests.harness.waiting import eventually

NAMED = "U0NAMED01"  # checked in, and named in another person's report-back
SAID = f"Ask {NAMED} about the buses."
QUOTED = f"{NAMED} knows the timetable by heart"  # a quote naming them, by someone else


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Summaries go to the organisers' channel too."""
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL}


def _showing(bot: RunningBot, text: str) -> list[dict[str, Any]]:
    """Every message of both channels (threads included) whose text or blocks hold `text`."""
    return [
        m
        for channel in (CHANNEL, SUMMARY_CHANNEL)
        for m in bot.slack.messages(channel)
        if text in m.get("text", "") or text in all_text(m.get("blocks", []))
    ]


def _session_with_named_report(bot: RunningBot) -> int:
    """A session whose report-back (by someone else) names NAMED; it has ended."""
    session = start_session(bot)
    for user in [*people(4), NAMED]:
        check_in(bot, user, place="Durham")
    started = start_round(bot, "2 --time 10m --seed 5", rooms=2)
    assert started.id is not None
    round_id = started.id
    reporter = next(u for room in members(bot, round_id).values() for u in room if u != NAMED)
    view = open_report(bot, reporter)
    values = form_values(SAID, quotes=[(QUOTED, "Member", "Durham", True)])
    assert submit_report(bot, reporter, view, values).text == ""
    eventually(lambda: bool(reports(bot)) and bool(reports(bot)[-1].thread_ts), what="report")
    assert bot.command("/session", "end").text == ""
    eventually(
        lambda: any("Summary" in m.get("text", "") for m in bot.slack.messages(SUMMARY_CHANNEL)),
        what="the final summary in the organisers' channel",
    )
    outbox_sent(bot)
    assert session.id is not None
    return session.id


def test_forget_edits_the_posts_whose_text_named_them(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _session_with_named_report(bot)
    report = reports(bot)[-1]
    typed = {m["ts"] for m in _showing(bot, NAMED)} - {
        m["ts"]
        for m in _showing(bot, f"<@{NAMED}>")  # the room's message: a mention
    }
    # The thread post, the compact post, and the summary in each channel name them as typed.
    assert report.thread_ts in typed
    assert len([m for m in _showing(bot, SAID) if "Summary" in m.get("text", "")]) >= 2
    assert len(_showing(bot, SAID)) >= 4

    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    assert main(["--env-file", "/nonexistent/.env", "person", "forget", NAMED]) == 0
    eventually(lambda: _showing(bot, NAMED) == [], timeout=15, what="every post without them")
    outbox_sent(bot)
    shown = "Ask someone (erased) about the buses."
    assert {m["ts"] for m in _showing(bot, shown)} == typed
    with bot.services.db.read() as s:
        stored = s.get(ReportBack, report.id)
    assert stored is not None
    assert NAMED not in stored.summary
    assert stored.summary.startswith("Ask erased-")
    # The tour report (its quotes), in both formats, reads as Slack does.
    for name in ("report.md", "report.html"):
        out = tmp_path / name
        assert main(["--env-file", "/nonexistent/.env", "report", "--out", str(out)]) == 0
        text = out.read_text()
        assert "someone (erased) knows the timetable by heart" in text
        assert NAMED not in text
        assert "erased-" not in text


def test_purge_rewrites_typed_ids_in_the_purged_sessions_only(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _session_with_named_report(bot)
    # A newer session, not purged, whose title names them: it stays as it is.
    with bot.services.db.transaction() as s:
        session = s.get(ListeningSession, old)
        assert session is not None
        moved = datetime.now(UTC) - timedelta(days=400)
        session.started_at = moved
        session.ended_at = moved + timedelta(hours=1)
        s.add(session)
    newer = ListeningSession(
        channel_id="C0NEWER",
        title=f"Durham again, with {NAMED}",
        started_by="U0FACIL1",
        started_at=datetime.now(UTC),
    )
    with bot.services.db.transaction() as s:
        s.add(newer)
    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    cut = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    assert main(["--env-file", "/nonexistent/.env", "purge", "--before", cut]) == 0
    capsys.readouterr()
    with bot.services.db.read() as s:
        [report] = s.exec(select(ReportBack)).all()
        titles = s.exec(select(ListeningSession.title)).all()
    assert NAMED not in report.summary
    assert report.summary.startswith("Ask erased-")
    assert f"Durham again, with {NAMED}" in titles
    eventually(lambda: _showing(bot, SAID) == [], timeout=15, what="the old posts without them")


def test_forget_edits_an_open_polls_message_whose_question_named_them(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_session(bot)
    check_in(bot, NAMED, place="Durham")
    question = f"Should {NAMED} chair the next meeting?"
    assert bot.command("/poll", f'"{question}" "Yes" "No" --time 30m').text == ""
    eventually(lambda: bool(_showing(bot, question)), what="the poll posted")
    outbox_sent(bot)
    [posted] = _showing(bot, question)

    monkeypatch.setenv("DATABASE_URL", bot.services.db.url)
    assert main(["--env-file", "/nonexistent/.env", "person", "forget", NAMED]) == 0
    eventually(lambda: _showing(bot, NAMED) == [], timeout=15, what="the poll without them")
    outbox_sent(bot)
    [edited] = _showing(bot, "Should someone (erased) chair the next meeting?")
    assert edited["ts"] == posted["ts"]  # edited in place, still open: its buttons are there
    assert "actions" in {block["type"] for block in edited["blocks"]}
