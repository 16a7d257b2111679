"""Rounds through failures: Slack failing for a while, the bot restarting (in process, and
`listening-bot serve` killed mid-round for real).

Every post of a round is an outbox row committed with the change it follows from; the sender
retries it until Slack takes it, and sends what is left after a restart. The round's deadlines
are data on its row: a restart reads them back and schedules what is still to come.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bot.bootstrap import create_app, create_services
from bot.rooms import REMINDER_AFTER, end_job_id, warn_job_id
from bot.rooms.effects import ROOM_END, ROOM_WARNING
from bot.standin import Call, FakeSlack, SlackSender, payloads
from bot.views.rooms import REPORT_ACTION
from bot.views.sessions import CHECK_IN_CALLBACK
from storage.rooms import BreakoutRound
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, SIGNING_SECRET, RunningBot, ack_text
from tests.e2e.rooms_helpers import (
    breakout,
    check_in,
    outbox_rows,
    outbox_sent,
    people,
    room_messages,
    rounds,
    start_round,
    start_session,
    thread_texts,
)
from tests.e2e.test_cli import BotProcess, _free_port
from tests.harness.waiting import eventually

PEOPLE = [f"U0P{n:02d}" for n in range(1, 5)]
TIME_UP = ":alarm_clock: Time's up — please send your report-back."
# The Web API client retries a 500 twice itself, a second or two apart, before the sender sees
# the failure and backs off: waiting for the sender's tries takes a few seconds each.
SLOW = 30.0


def _time_up(call: Call) -> bool:
    return bool(call.args.get("thread_ts")) and "Time's up" in str(call.args.get("text"))


def _warning(call: Call) -> bool:
    return bool(call.args.get("thread_ts")) and "left (the round ends" in str(call.args.get("text"))


def _posted(bot: RunningBot, what: Callable[[Call], bool]) -> list[Call]:
    """Posts Slack took (not the ones it failed), picked by `what`."""
    return [c for c in bot.slack.calls_to("chat.postMessage") if not c.failed and what(c)]


def _slack_down(bot: RunningBot) -> None:
    """Slack answers 500 to every chat.postMessage until `clear_failures`."""
    bot.slack.fail_next("chat.postMessage", status=500, times=10_000)


def _running_round(bot: RunningBot) -> BreakoutRound:
    start_session(bot)
    for user in people(4):
        check_in(bot, user)
    started = start_round(bot, "2 --time 15m --seed 1", rooms=2)
    outbox_sent(bot)  # everyone has been told their room before Slack has trouble
    return started


# -- Slack failing for a while ------------------------------------------------------------------


def test_slack_failing_while_the_warning_and_time_s_up_fall_due(bot: RunningBot) -> None:
    started = _running_round(bot)
    round_id = started.id or 0
    _slack_down(bot)

    # The warning falls due: Slack answers 500, the sender will try again. The round's posts
    # go out in order, so the second room's warning waits behind the first.
    bot.clock.advance(timedelta(minutes=13))
    bot.services.rooms.warn(round_id)
    eventually(
        lambda: [r.attempts for r in outbox_rows(bot, ROOM_WARNING)] == [1, 0],
        timeout=SLOW,
        what="the first warning tried once",
    )
    # Time is up while Slack is still down. The warning's retry falls due with the deadline, so
    # the sender may try it again before the round has ended (and Slack fails it again) or after
    # (and it goes without a word). Either way the sender settles before the clock moves on: a
    # try still in flight when the clock jumps gets its retry counted from the new time, and
    # waits past it for a clock that stands still.
    bot.clock.advance(timedelta(minutes=2))
    bot.services.rooms.expire(round_id)
    outbox_sent(bot)
    # Past the backoff, with Slack still down: the warnings go without a word (the round is
    # over), time's up is tried and fails.
    bot.clock.advance(timedelta(minutes=1))
    outbox_sent(bot)
    assert all(r.sent_at is not None for r in outbox_rows(bot, ROOM_WARNING))
    assert outbox_rows(bot, ROOM_END)[0].attempts >= 1
    assert all(r.sent_at is None for r in outbox_rows(bot, ROOM_END))
    assert any(_warning(c) for c in bot.slack.calls_to("chat.postMessage") if c.failed)

    # Slack is back: time's up goes out once the backoff has passed, once per room.
    bot.slack.clear_failures("chat.postMessage")
    bot.clock.advance(timedelta(minutes=1))
    outbox_sent(bot)
    for texts in thread_texts(bot, round_id).values():
        assert texts == [TIME_UP]
    assert len(_posted(bot, _time_up)) == 2
    assert _posted(bot, _warning) == []
    # and nothing is sent again later
    bot.clock.advance(timedelta(minutes=10))
    bot.services.rooms.recover()
    outbox_sent(bot)
    assert len(_posted(bot, _time_up)) == 2


def test_a_warning_slack_delayed_is_sent_while_the_round_still_runs(bot: RunningBot) -> None:
    started = _running_round(bot)
    round_id = started.id or 0
    _slack_down(bot)
    bot.clock.advance(timedelta(minutes=13))
    bot.services.rooms.warn(round_id)
    eventually(
        lambda: [r.attempts for r in outbox_rows(bot, ROOM_WARNING)] == [1, 0],
        timeout=SLOW,
        what="the first warning tried once, the second waiting behind it",
    )
    bot.slack.clear_failures("chat.postMessage")  # Slack is back
    bot.clock.advance(timedelta(seconds=10))  # past the backoff, before the end
    outbox_sent(bot)
    assert len(_posted(bot, _warning)) == 2
    bot.clock.advance(timedelta(minutes=2))
    bot.services.rooms.expire(round_id)
    outbox_sent(bot)
    for texts in thread_texts(bot, round_id).values():
        assert len(texts) == 2
        assert "2m left" in texts[0]
        assert texts[1] == TIME_UP


def test_a_warning_queued_before_time_s_up_is_not_sent_after_it(bot: RunningBot) -> None:
    started = _running_round(bot)
    round_id = started.id or 0
    _slack_down(bot)
    bot.clock.advance(timedelta(minutes=13))
    bot.services.rooms.warn(round_id)
    eventually(
        lambda: [r.attempts for r in outbox_rows(bot, ROOM_WARNING)] == [1, 0],
        timeout=SLOW,
        what="the first warning tried once, the second waiting behind it",
    )
    bot.slack.clear_failures("chat.postMessage")  # Slack is back
    # The clock stands still, so the warnings wait for their retry; the round ends first.
    assert "Breakout round 1 ended" in ack_text(breakout(bot, "end"))
    outbox_sent(bot)
    assert _posted(bot, _time_up) == []  # in order: behind the warnings' retry
    bot.clock.advance(timedelta(minutes=1))  # the warnings' retry is due: after the end
    outbox_sent(bot)
    assert len(_posted(bot, _time_up)) == 2
    assert all(r.sent_at is not None for r in outbox_rows(bot, ROOM_WARNING))
    assert _posted(bot, _warning) == []
    for texts in thread_texts(bot, round_id).values():
        assert texts == [TIME_UP]


# -- restarts in process --------------------------------------------------------------------


def test_restart_ends_overdue_rounds_once_and_reschedules_the_rest(
    bot: RunningBot, sqlite_url: str
) -> None:
    # Two sessions: one round overdue by the time the bot is back, one still running.
    for channel in ("C0OVERDUE", "C0RUNNING"):
        start_session(bot, channel)
        for user in people(4):
            check_in(bot, user, channel=channel)
    assert "started" in ack_text(breakout(bot, "2 --time 5m", channel="C0OVERDUE"))
    assert "started" in ack_text(breakout(bot, "2 --time 30m", channel="C0RUNNING"))
    eventually(lambda: len(room_messages(bot, "C0OVERDUE")) == 2)
    eventually(lambda: len(room_messages(bot, "C0RUNNING")) == 2)
    overdue, running = rounds(bot)
    bot.services.stop_background()  # the bot goes down

    bot.clock.advance(timedelta(minutes=10))

    def restart() -> None:
        services = create_services(bot.services.settings, clock=bot.clock)
        create_app(services)
        services.start_background()
        try:
            pending = services.deadlines.pending()
            assert end_job_id(running.id or 0) in pending
            assert pending[end_job_id(running.id or 0)] == running.ends_at
            assert warn_job_id(running.id or 0) in pending
            assert end_job_id(overdue.id or 0) not in pending
            outbox_sent(bot, services)
        finally:
            services.stop_background()

    restart()
    after = {r.id: r for r in rounds(bot)}
    assert after[overdue.id].end_reason == "time"
    assert after[running.id].ended_at is None
    overdue_texts = thread_texts(bot, overdue.id or 0, "C0OVERDUE")
    for texts in overdue_texts.values():
        assert len([t for t in texts if "Time's up" in t]) == 1
        assert not [t for t in texts if "left" in t]  # overdue: no warning after the fact
    restart()  # a second restart announces nothing again
    assert thread_texts(bot, overdue.id or 0, "C0OVERDUE") == overdue_texts
    running_texts = thread_texts(bot, running.id or 0, "C0RUNNING")
    assert all(texts == [] for texts in running_texts.values())


# -- `listening-bot serve` killed for real ----------------------------------------------------


def test_a_round_overdue_after_a_crash_ends_once_on_start(tmp_path: Path, slack: FakeSlack) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{tmp_path / 'rooms.db'}"
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": db_url,
    }
    sender = SlackSender(base, SIGNING_SECRET, timeout=5)
    engine = create_engine(db_url)

    def serve(run: int) -> BotProcess:
        process = BotProcess(
            ["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / f"{run}.log"
        )
        process.wait_until_serving(base)
        return process

    def command(name: str, text_: str) -> requests.Response:
        body = payloads.slash_command(
            name,
            text_,
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=slack.response_url(text_[:20]),
        )
        return sender.command(body)

    def round_row() -> dict[str, object]:
        with engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT warned_at, ended_at, end_reason, remind_at, reminded_at"
                    " FROM breakout_round"
                )
            ).one()
        return dict(row._mapping)

    first = serve(1)
    try:
        assert command("/session", 'start "Restarts"').status_code == 200
        slack.wait_for("chat.postMessage", timeout=10)
        with engine.connect() as connection:
            session_id = connection.execute(text("SELECT id FROM listening_session")).scalar()
        for user in PEOPLE:
            body = payloads.view_submission(
                user_id=user,
                view={"id": "V0CHECKIN", "blocks": [], "callback_id": CHECK_IN_CALLBACK},
                values={"role": {"role": payloads.static_select_value("Member", external=True)}},
                private_metadata=str(session_id),
                callback_id=CHECK_IN_CALLBACK,
            )
            assert sender.submit_view(body).status_code == 200
        assert "started" in command("/breakout", "2 --time 15m").text
        rooms = slack.wait_for(
            "chat.postMessage",
            count=2,
            timeout=10,
            predicate=lambda c: REPORT_ACTION in str(c.args.get("blocks")),
        )
        # the deadlines are on the round's row: that is what a restart reads back
        assert round_row()["ended_at"] is None

        def threads_stored() -> bool:
            with engine.connect() as connection:
                stored = connection.execute(text("SELECT message_ts FROM breakout_room")).all()
            return len(stored) == 2 and all(ts for (ts,) in stored)

        eventually(threads_stored, what="room threads stored")
    finally:
        first.process.kill()  # a crash: no clean shutdown
        first.stop()

    # The bot stays down past the round's end.
    past = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE breakout_round SET ends_at = :end, warn_at = :warn"),
            {"end": past, "warn": past - timedelta(minutes=2)},
        )

    second = serve(2)
    try:
        ended = slack.wait_for("chat.postMessage", count=2, timeout=10, predicate=_time_up)
        assert {c.args["thread_ts"] for c in ended} == {c.response["ts"] for c in rooms}
        row = round_row()
        assert row["end_reason"] == "time"
        # overdue: no warning after the fact, only the end
        assert row["warned_at"] is None
        assert not [c for c in slack.calls_to("chat.postMessage") if _warning(c)]
        # the reminder's deadline is stored, for this process or the next to wake up at
        assert row["remind_at"] is not None
        assert row["reminded_at"] is None
        ended_at = _as_datetime(row["ended_at"])
        assert _as_datetime(row["remind_at"]) - ended_at == REMINDER_AFTER
    finally:
        second.stop()

    third = serve(3)  # a restart after that announces nothing again
    try:
        assert "No breakout round is running" in command("/breakout", "end").text
    finally:
        third.stop()
    assert len([c for c in slack.calls_to("chat.postMessage") if _time_up(c)]) == 2
    with engine.connect() as connection:
        ends = connection.execute(
            text("SELECT count(*), count(sent_at) FROM outbox WHERE kind = :kind"),
            {"kind": ROOM_END},
        ).one()
    assert tuple(ends) == (2, 2)  # queued once per room, and sent
    engine.dispose()


def _as_datetime(value: object) -> datetime:
    """A timestamp as SQLite hands it back through a bare engine."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
