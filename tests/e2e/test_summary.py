"""Session summaries through the real app: posted on end (once), on /summary, and on recovery."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.bootstrap import create_services
from bot.clock import FixedClock
from bot.standin import Call, FakeSlack
from storage import outbox
from storage.db import create_db_engine
from storage.migrate import upgrade
from storage.rooms import NewQuote
from tests.e2e.conftest import CHANNEL, FACILITATOR, PARTICIPANT, RunningBot, bot_settings
from tests.harness.tour_data import add_closed_poll, add_report_backs
from tests.harness.waiting import eventually

SUMMARY_CHANNEL = "C0SUMMARY"
HOSTILE = "<!channel> & <https://evil.example|click>"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL}


def _start(bot: RunningBot) -> int:
    assert bot.command("/session", 'start "Durham" --area Durham --group CLP').text == ""
    bot.slack.wait_for("chat.postMessage")
    session = bot.services.sessions.active_session(CHANNEL)
    assert session is not None
    assert session.id is not None
    return session.id


def _summary_posts(bot: RunningBot, channel: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in bot.slack.calls_to("chat.postMessage")
        if c.args["channel"] == channel and "ummary of" in c.args["text"] and not c.failed
    ]


def _text(posts: list[dict[str, Any]]) -> str:
    return json.dumps([p["blocks"] for p in posts], ensure_ascii=False)


def _has_ended(call: Call) -> bool:
    return "has ended" in str(call.args.get("text"))


def _summary_row(bot: RunningBot, session_id: int) -> outbox.OutboxRow:
    with bot.services.db.read() as s:
        [row] = [r for r in outbox.rows(s) if r.key == f"session:{session_id}:summary"]
    return row


def _tries(bot: RunningBot, key: str) -> int:
    with bot.services.db.read() as s:
        return next(row.attempts for row in outbox.rows(s) if row.key == key)


def _past_the_backoff(bot: RunningBot) -> None:
    """Move the clock to when the earliest failed post may be tried again, and wake the sender."""
    with bot.services.db.read() as s:
        due = outbox.next_retry(s, after=bot.clock.now())
    if due is not None and due > bot.clock.now():
        bot.clock.advance(due - bot.clock.now())
    bot.services.outbox.wake()


def _seed(bot: RunningBot, session_id: int) -> None:
    votes = {f"U{i:03d}": (0 if i < 7 else 1) for i in range(10)}  # 7 agree, 3 disagree
    add_closed_poll(
        bot.services.db,
        session_id=session_id,
        channel_id=CHANNEL,
        question="Fund the NHS?",
        options=["Agree", "Disagree"],
        votes=votes,
        now=bot.clock.now(),
    )
    add_closed_poll(
        bot.services.db,
        session_id=session_id,
        channel_id=CHANNEL,
        question="Secret ballot?",
        options=["Yes", "No"],
        votes={"U001": 0, "U002": 0, "U003": 1, "U004": 0},
        anonymous=True,
        now=bot.clock.now(),
    )
    add_report_backs(
        bot.services.db,
        session_id=session_id,
        reports=[
            (
                "Housing came up first",
                ["Rents", "Repairs"],
                [
                    NewQuote("Rents are too high", "Member", "Durham", True),
                    NewQuote("Never print me", "Member", "Durham", False),
                    NewQuote(HOSTILE, "Councillor", None, True),
                ],
                ["Housing"],
            ),
            ("Buses", ["Evening services"], [], ["Transport", "Housing"]),
        ],
        now=bot.clock.now(),
    )


def test_end_posts_the_summary_to_the_channel_and_the_organisers(bot: RunningBot) -> None:
    session_id = _start(bot)
    _seed(bot, session_id)
    assert bot.command("/session", "end").text == ""
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) >= 1, what="summary posted")
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        text = _text(_summary_posts(bot, channel))
        assert "Summary: Durham" in text
        assert "70% Agree (7)" in text
        assert "30% Disagree (3)" in text
        assert "of 10 who voted" in text
        assert "75% Yes (3)" in text
        assert "anonymous: totals only" in text
        assert "Housing came up first" in text
        assert "• Rents" in text
        assert "“Rents are too high” — Member, Durham" in text
        assert "Never print me" not in text
        assert "<!channel>" not in text
        assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
        assert "• Housing — 2" in text
        assert "• Transport — 1" in text
    uploads = bot.slack.wait_for("files.completeUploadExternal", count=2)
    assert {u.args.get("channel_id") for u in uploads} == {CHANNEL, SUMMARY_CHANNEL}
    assert all(
        len(json.loads(u.args["files"]) if isinstance(u.args["files"], str) else u.args["files"])
        == 2
        for u in uploads
    )


def test_the_summary_is_posted_once_per_end_whatever_is_retried(bot: RunningBot) -> None:
    _start(bot)
    body = bot.command_payload("/session", "end")
    for retry in (None, 1, 2, 3):
        assert bot.command("/session", "", payload=body, retry_num=retry).status_code == 200
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1, what="summary")
    assert bot.command("/session", "end").status_code == 200  # nothing left to end
    bot.services.summaries.recover()  # a restart finds nothing to post either
    assert len(_summary_posts(bot, CHANNEL)) == 1
    assert len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1


def test_a_summary_that_could_not_be_posted_is_posted_after_the_backoff(bot: RunningBot) -> None:
    session_id = _start(bot)
    # the end announcement fails, then (once it is out) the summary's first post
    bot.slack.fail_next("chat.postMessage", status=200, error="internal_error")
    bot.command("/session", "end")
    bot.slack.wait_for("chat.postMessage", predicate=lambda c: c.failed and _has_ended(c))
    # the summary waits behind "has ended": it never overtakes it
    assert bot.services.outbox.wait_idle()
    assert _tries(bot, f"session:{session_id}:summary") == 0
    assert _summary_posts(bot, CHANNEL) == []
    ended_again = bot.slack.hold_next("chat.postMessage")
    _past_the_backoff(bot)
    bot.slack.wait_for("chat.postMessage", count=2, predicate=_has_ended)
    bot.slack.fail_next("chat.postMessage", status=200, error="internal_error")
    ended_again.set()
    bot.slack.wait_for(
        "chat.postMessage",
        predicate=lambda c: c.failed and str(c.args.get("text")).startswith("Summary of"),
    )
    eventually(lambda: _tries(bot, f"session:{session_id}:summary") == 1, what="failure counted")
    assert bot.services.summaries.unposted() == [session_id]
    # the organisers' channel had its turn all the same; the session's channel waits its retry
    assert len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1
    _past_the_backoff(bot)
    eventually(lambda: _summary_row(bot, session_id).sent_at is not None, what="summary done")
    assert bot.services.outbox.wait_idle()
    assert len(_summary_posts(bot, CHANNEL)) == 1
    assert len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if _has_ended(c)]) == 2
    # in the channel: "has ended", then the summary
    texts = [m["text"] for m in bot.slack.messages(CHANNEL)]
    assert "has ended" in texts[-2]
    assert texts[-1].startswith("Summary of")
    assert bot.services.summaries.unposted() == []
    assert _summary_row(bot, session_id).failed is None


def test_a_long_summary_is_split_and_nothing_is_dropped(bot: RunningBot) -> None:
    session_id = _start(bot)
    reports: list[tuple[str, list[str], list[NewQuote], list[str]]] = [
        (
            f"Room {i} says " + "housing costs too much " * 120,
            [f"point {i}-{j}" for j in range(8)],
            [],
            [],
        )
        for i in range(60)
    ]
    add_report_backs(bot.services.db, session_id=session_id, reports=reports, now=bot.clock.now())
    bot.command("/session", "end")
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) > 1, what="split summary")
    posts = _summary_posts(bot, CHANNEL)
    assert len(posts) > 1
    assert all(len(p["blocks"]) <= 50 for p in posts)
    text = _text(posts)
    for i in range(60):
        assert f"Room {i} says" in text
        assert f"point {i}-7" in text
    assert posts[0]["text"].endswith(f"(1/{len(posts)})")


def test_interim_summary_for_facilitators(bot: RunningBot) -> None:
    assert "There is no session" in bot.command("/summary", "").text
    session_id = _start(bot)
    _seed(bot, session_id)
    assert "only the facilitators" in bot.command("/summary", "", user=PARTICIPANT).text
    assert "Unexpected" in bot.command("/summary", "now please").text
    assert "interim summary" in bot.command("/summary", "help").text
    body = bot.command_payload("/summary", "")
    assert "Posting an interim summary" in bot.command("/summary", "", payload=body).text
    bot.command("/summary", "", payload=body, retry_num=1)
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1, what="interim")
    posts = _summary_posts(bot, CHANNEL)
    assert len(posts) == 1
    assert "Interim summary: Durham" in _text(posts)
    assert bot.services.sessions.active_session(CHANNEL) is not None  # still running


@pytest.mark.parametrize(
    "text", ['"unbalanced', "--colour red", "<!channel>", "🎤 جلسة", "x" * 5000]
)
def test_bad_summary_arguments_are_refused(bot: RunningBot, text: str) -> None:
    _start(bot)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    reply = bot.command("/summary", escaped)
    assert "Usage:" in reply.text
    assert "<!channel>" not in reply.text
    assert _summary_posts(bot, CHANNEL) == []


def test_a_failed_chart_upload_does_not_post_the_summary_again(bot: RunningBot) -> None:
    session_id = _start(bot)
    _seed(bot, session_id)
    bot.slack.fail_next("files.getUploadURLExternal", error="missing_scope", times=10)
    bot.command("/session", "end")
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1, what="summary")
    eventually(lambda: bot.services.summaries.unposted() == [], what="summary done")
    bot.services.summaries.recover()
    assert len(_summary_posts(bot, CHANNEL)) == 1
    assert len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1


def test_a_retry_only_posts_to_the_channel_that_missed_it(bot: RunningBot) -> None:
    session_id = _start(bot)
    # The organisers' channel fails the first time round: hold each post's answer so the
    # failure can be put on the third one ("has ended", the session's channel, the organisers').
    ended = bot.slack.hold_next("chat.postMessage")
    bot.command("/session", "end")
    bot.slack.wait_for("chat.postMessage", predicate=_has_ended)
    in_channel = bot.slack.hold_next("chat.postMessage")
    ended.set()
    eventually(lambda: len(_summary_posts(bot, CHANNEL)) == 1, what="first channel")
    bot.slack.fail_next("chat.postMessage", status=200, error="service_unavailable")
    in_channel.set()
    eventually(lambda: _tries(bot, f"session:{session_id}:summary") == 1, what="failure counted")
    assert json.loads(_summary_row(bot, session_id).progress or "{}")[f"{CHANNEL}:done"] is True
    _past_the_backoff(bot)
    eventually(lambda: _summary_row(bot, session_id).sent_at is not None, what="summary done")
    assert bot.services.outbox.wait_idle()
    assert len(_summary_posts(bot, CHANNEL)) == 1
    assert len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1


def test_a_channel_that_refuses_the_summary_does_not_stop_the_other(bot: RunningBot) -> None:
    session_id = _start(bot)
    ended = bot.slack.hold_next("chat.postMessage")
    bot.command("/session", "end")
    bot.slack.wait_for("chat.postMessage", predicate=_has_ended)
    # the bot was removed from the session's channel after "has ended"
    bot.slack.fail_next("chat.postMessage", error="not_in_channel")
    ended.set()
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1, what="organisers' copy")
    eventually(lambda: _summary_row(bot, session_id).failed == "not_in_channel")
    assert bot.services.outbox.wait_idle()
    assert _summary_posts(bot, CHANNEL) == []
    assert bot.services.summaries.unposted() == []  # given up for good: done, never re-queued
    bot.services.summaries.recover()
    bot.clock.advance(timedelta(hours=1))
    bot.services.outbox.wake()
    assert bot.services.outbox.wait_idle()
    assert len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1


def test_open_hidden_polls_show_no_figures_and_unanswered_polls_say_so(bot: RunningBot) -> None:
    session_id = _start(bot)
    from storage.polls import create_poll

    with bot.services.db.transaction() as s:
        hidden = create_poll(
            s,
            session_id=session_id,
            channel_id=CHANNEL,
            key="hidden",
            question="Secret until the end?",
            options=["Yes", "No"],
            multi=False,
            anonymous=False,
            hide_results=True,
            created_by=FACILITATOR,
            now=bot.clock.now(),
            closes_at=bot.clock.now() + timedelta(hours=1),
        )
        assert hidden.id is not None
    add_closed_poll(
        bot.services.db,
        session_id=session_id,
        channel_id=CHANNEL,
        question="Anyone there?",
        options=["Yes", "No"],
        votes={},
        now=bot.clock.now(),
    )
    from storage.polls import PollVote, PollVoter

    with bot.services.db.transaction() as s:
        s.add(PollVoter(poll_id=hidden.id, user_id="U1"))
        s.flush()
        s.add(PollVote(poll_id=hidden.id, user_id="U1", option_index=0))
    bot.command("/summary", "")
    eventually(lambda: len(_summary_posts(bot, SUMMARY_CHANNEL)) == 1, what="interim")
    text = _text(_summary_posts(bot, CHANNEL))
    assert "results hidden until the poll closes · 1 voted so far" in text
    assert "100% Yes" not in text
    assert "nobody voted" in text


def test_a_summary_owed_before_an_upgrade_is_posted_once(
    fake_slack: FakeSlack, sqlite_url: str, clock: FixedClock
) -> None:
    # A database of the release before the outbox: two sessions ended without a complete
    # summary, one of them already posted to its own channel (not to the organisers').
    engine = create_db_engine(sqlite_url)
    upgrade(engine, "0004")
    with engine.begin() as connection:
        for session_id, channel, reached in [(1, CHANNEL, ""), (2, "C0OTHER", "C0OTHER")]:
            connection.execute(
                text(
                    "INSERT INTO listening_session (id, channel_id, title, started_by, started_at,"
                    " ended_at, ended_by, summary_posted_at, summary_channels)"
                    " VALUES (:id, :channel, :title, :user, :at, :at, :user, NULL, :reached)"
                ),
                {
                    "id": session_id,
                    "channel": channel,
                    "title": f"Old session {session_id}",
                    "user": FACILITATOR,
                    "at": clock.now().replace(tzinfo=None),
                    "reached": reached,
                },
            )
    engine.dispose()
    settings = bot_settings(fake_slack, sqlite_url, SUMMARY_CHANNEL=SUMMARY_CHANNEL)
    for _restart in range(2):
        services = create_services(settings, clock=clock)
        upgrade(services.db.engine)
        services.start_background()
        try:
            assert services.outbox.wait_idle()
            assert services.summaries.unposted() == []
        finally:
            services.stop_background()

    def posts(channel: str) -> list[str]:
        return [
            c.args["text"]
            for c in fake_slack.calls_to("chat.postMessage")
            if c.args["channel"] == channel and not c.failed
        ]

    assert posts(CHANNEL) == ["Summary of Old session 1"]
    assert sorted(posts(SUMMARY_CHANNEL)) == [
        "Summary of Old session 1",
        "Summary of Old session 2",
    ]
    assert posts("C0OTHER") == []  # it had it already
