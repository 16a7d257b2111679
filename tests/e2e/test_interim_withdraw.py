"""A quote withdrawn after summaries were posted, through the real app: an interim summary is
edited to show what it showed when it was built ("as of" its time) minus the quote, not what
came in since; the final summary shows everything there is now minus the quote; and a summary
that needs more messages than it first posted gets the missing parts posted after its others."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.outbox import queue
from bot.standin import payloads
from bot.summaries import summary_edit
from bot.views.polls import VOTE_ACTION_PREFIX
from storage import rooms as rooms_repo
from storage.polls import Poll
from storage.rooms import NewQuote, ReportBack, ReportQuote
from storage.summaries import SummaryPost
from tests.e2e.conftest import CHANNEL, RunningBot, all_text
from tests.e2e.quote_helpers import SUMMARY_CHANNEL, cli
from tests.e2e.rooms_helpers import check_in, outbox_sent, people, start_session
from tests.harness.tour_data import add_closed_poll, add_report_backs
from tests.harness.waiting import eventually

WITHDRAWN = "The last bus is at 7pm and I walk home in the dark."
KEPT = "Fares went up twice this year."
QUOTES = [
    NewQuote(WITHDRAWN, "Member", "Durham", True),
    NewQuote(KEPT, "Councillor", "Durham", True),
]
LATER = "Trains never come on time."


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL}


def _summaries(bot: RunningBot, channel: str, kind: str) -> list[dict[str, Any]]:
    """The current state of the messages of a channel's summaries of one kind, in order."""
    return [m for m in bot.slack.messages(channel) if str(m.get("text")).startswith(kind)]


def _interim(bot: RunningBot, channel: str) -> str:
    return all_text([m["blocks"] for m in _summaries(bot, channel, "Interim summary of")])


def _final(bot: RunningBot, channel: str) -> str:
    return all_text([m["blocks"] for m in _summaries(bot, channel, "Summary of")])


def _withdraw(bot: RunningBot, text: str) -> None:
    """Withdraw the quote with this text from the command line and let the edits go out."""
    with bot.services.db.read() as db:
        quotes = db.exec(select(ReportQuote).where(ReportQuote.text == text)).all()
    assert quotes
    assert cli("quote", "withdraw", str(quotes[0].id)) == 0
    bot.services.outbox.wake()
    eventually(
        lambda: text not in all_text([bot.slack.messages(c) for c in (CHANNEL, SUMMARY_CHANNEL)]),
        timeout=10,
        what="the quote edited out of every summary",
    )
    outbox_sent(bot)


def _launch_poll(bot: RunningBot) -> dict[str, Any]:
    """A named poll open for two hours; its message in the channel."""
    assert bot.command("/poll", '"Open the library on Sundays?" "Yes" "No" --time 2h').text == ""
    eventually(
        lambda: any(str(m.get("text")).startswith("Poll: ") for m in bot.slack.messages(CHANNEL)),
        what="the poll posted",
    )
    with bot.services.db.read() as db:
        poll = db.exec(select(Poll).where(Poll.question == "Open the library on Sundays?")).one()
    eventually(lambda: _poll_ts(bot) is not None, what="the poll's message ts stored")
    ts = _poll_ts(bot)
    assert poll.id is not None
    return next(m for m in bot.slack.messages(CHANNEL) if m["ts"] == ts)


def _poll_ts(bot: RunningBot) -> str | None:
    with bot.services.db.read() as db:
        poll = db.exec(select(Poll).where(Poll.question == "Open the library on Sundays?")).one()
        return poll.message_ts


def _vote(bot: RunningBot, message: dict[str, Any], index: int, user: str) -> None:
    buttons = [
        (block_id, button)
        for block_id, button in payloads.message_buttons(message)
        if button["action_id"].startswith(VOTE_ACTION_PREFIX)
    ]
    block_id, button = buttons[index]
    body = payloads.button_click(message, block_id, button, user_id=user, channel_id=CHANNEL)
    response = bot.sender.action(body)
    assert response.status_code == 200


def _add_version(bot: RunningBot, summary: str, quotes: list[NewQuote]) -> None:
    """A new version of the first room's report-back, submitted now."""
    with bot.services.db.transaction() as db:
        first = db.exec(select(ReportBack).order_by(ReportBack.id)).first()  # type: ignore[arg-type]
        assert first is not None
        rooms_repo.add_report(
            db,
            room_id=first.room_id,
            submitted_by=first.submitted_by,
            now=bot.clock.now(),
            summary=summary,
            key_points=[],
            quotes=quotes,
            theme_ids=[],
        )


@pytest.mark.usefixtures("cli_env")
def test_an_edited_interim_summary_still_shows_what_it_showed_then(bot: RunningBot) -> None:
    session = start_session(bot)
    assert session.id is not None
    for user in people(4):
        check_in(bot, user, place="Durham")
    add_closed_poll(
        bot.services.db,
        session_id=session.id,
        channel_id=CHANNEL,
        question="Fund the buses?",
        options=["Agree", "Disagree"],
        votes={"U0V1": 0, "U0V2": 0, "U0V3": 0, "U0V4": 1},
        now=bot.clock.now(),
    )
    poll = _launch_poll(bot)
    _vote(bot, poll, 0, "U0V1")
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[("Buses came up first.", [], QUOTES, ["Transport"])],
        now=bot.clock.now(),
    )
    outbox_sent(bot)
    bot.clock.advance(timedelta(minutes=5))
    assert bot.command("/summary", "").status_code == 200
    eventually(lambda: _interim(bot, SUMMARY_CHANNEL) != "[]", what="the interim summary")
    outbox_sent(bot)
    before = _interim(bot, SUMMARY_CHANNEL)
    as_of = re.search(r"as of [^·]+", before)
    assert as_of is not None
    assert "4 checked in" in before
    assert WITHDRAWN in before
    assert KEPT in before
    assert "Open the library on Sundays?" in before

    # After the interim summary: more check-ins, votes, a poll, a report-back and a new version.
    bot.clock.advance(timedelta(minutes=20))
    for user in people(3, prefix="U0LATE"):
        check_in(bot, user, place="Durham")
    for user in ("U0V2", "U0V3", "U0V4"):
        _vote(bot, poll, 1, user)
    add_closed_poll(
        bot.services.db,
        session_id=session.id,
        channel_id=CHANNEL,
        question="Build more homes?",
        options=["Yes", "No"],
        votes={"U0V1": 0, "U0V2": 0},
        now=bot.clock.now(),
    )
    _add_version(bot, "Buses, and then trains.", QUOTES)
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[("Trains came up later.", [], [NewQuote(LATER, "Member", "Durham", True)], [])],
        now=bot.clock.now(),
    )
    outbox_sent(bot)
    bot.clock.advance(timedelta(minutes=5))
    assert bot.command("/session", "end").text == ""
    eventually(lambda: _final(bot, SUMMARY_CHANNEL) != "[]", what="the final summary")
    outbox_sent(bot)
    assert "7 checked in" in _final(bot, SUMMARY_CHANNEL)

    _withdraw(bot, WITHDRAWN)

    for channel in (CHANNEL, SUMMARY_CHANNEL):
        interim = _interim(bot, channel)
        assert as_of.group(0) in interim  # still "as of" its own time
        assert WITHDRAWN not in interim
        assert KEPT in interim
        assert "4 checked in" in interim
        assert "7 checked in" not in interim
        assert "Agree (3)" in interim
        assert "Disagree (1)" in interim
        assert "Build more homes?" not in interim  # asked after
        assert "Buses came up first." in interim  # the version it showed, not the later one
        assert "Buses, and then trains." not in interim
        assert "Trains came up later." not in interim
        assert LATER not in interim
        # Open then: its votes are stored without a time, so no figures, and no later ones.
        assert "Open the library on Sundays?" in interim
        assert "still open at" in interim
        assert "Yes (" not in interim
        assert "No (" not in interim
        final = _final(bot, channel)
        assert WITHDRAWN not in final
        assert KEPT in final
        assert LATER in final
        assert "7 checked in" in final
        assert "Build more homes?" in final
        assert "Buses, and then trains." in final
        assert "Yes (1)" in final
        assert "No (3)" in final
        assert "still open at" not in final
        assert len(_summaries(bot, channel, "Interim summary of")) == 1
        assert len(_summaries(bot, channel, "Summary of")) == 1


def _posts(bot: RunningBot) -> list[SummaryPost]:
    with bot.services.db.read() as db:
        return list(db.exec(select(SummaryPost)).all())


@pytest.mark.usefixtures("cli_env")
def test_a_summary_needing_more_messages_gets_the_rest_posted_after_its_others(
    bot: RunningBot,
) -> None:
    session = start_session(bot)
    assert session.id is not None
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[("Buses", [], QUOTES, [])],
        now=bot.clock.now(),
    )
    assert bot.command("/session", "end").text == ""
    eventually(lambda: _final(bot, SUMMARY_CHANNEL) != "[]", what="the final summary")
    outbox_sent(bot)
    assert all(len(_summaries(bot, c, "Summary of")) == 1 for c in (CHANNEL, SUMMARY_CHANNEL))
    # Report-backs that came in after the end: the summary as it is now needs several messages.
    add_report_backs(
        bot.services.db,
        session_id=session.id,
        reports=[
            (f"Room {i} says " + "housing costs too much " * 120, [], [], []) for i in range(60)
        ],
        now=bot.clock.now(),
    )

    _withdraw(bot, WITHDRAWN)

    counts = set()
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        parts = _summaries(bot, channel, "Summary of")
        counts.add(len(parts))
        assert len(parts) > 1  # nothing dropped: the parts beyond the first are posted
        assert all(m.get("thread_ts") in (None, m["ts"]) for m in parts)  # top level, as before
        texts = [str(m["text"]) for m in parts]
        assert texts == [
            f"Summary of {session.title} ({n}/{len(parts)})" for n in range(1, len(parts) + 1)
        ]
        text = all_text([m["blocks"] for m in parts])
        assert all(f"Room {i} says" in text for i in range(60))
        assert KEPT in text
    [count] = counts
    # Remembered as the summary's own parts: the next withdrawal edits them too, posts nothing.
    assert sorted(p.part for p in _posts(bot) if p.channel == SUMMARY_CHANNEL) == list(
        range(1, count + 1)
    )
    posted = len(bot.slack.calls_to("chat.postMessage"))
    _withdraw(bot, KEPT)
    assert len(bot.slack.calls_to("chat.postMessage")) == posted
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        assert len(_summaries(bot, channel, "Summary of")) == count
        assert KEPT not in all_text(bot.slack.messages(channel))
    # The final summary shown again later (Zoom's answers came in): the same messages edited,
    # those a withdrawal posted included, none posted twice or left behind.
    with bot.services.db.transaction() as db:
        assert queue(db, summary_edit(session.id), now=bot.clock.now())
    bot.services.outbox.wake()
    outbox_sent(bot)
    assert len(bot.slack.calls_to("chat.postMessage")) == posted
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        assert len(_summaries(bot, channel, "Summary of")) == count
