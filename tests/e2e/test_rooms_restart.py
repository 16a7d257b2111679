"""Restart safety for real: `listening-bot serve` killed mid-round, its deadline passing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.rooms import end_job_id, warn_job_id
from bot.views.rooms import REPORT_ACTION
from bot.views.sessions import CHECK_IN_CALLBACK
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, SIGNING_SECRET
from tests.e2e.test_cli import BotProcess, _free_port
from tests.harness import slack_requests as payloads
from tests.harness.fake_slack import Call, FakeSlack
from tests.harness.slack_requests import SlackSender
from tests.harness.waiting import eventually

PEOPLE = [f"U0P{n:02d}" for n in range(1, 5)]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake
        fake.assert_no_violations()


def _time_up(call: Call) -> bool:
    return bool(call.args.get("thread_ts")) and "Time's up" in str(call.args.get("text"))


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

        def healthy() -> bool:
            assert process.process.poll() is None, process.output()
            try:
                return requests.get(f"{base}/healthz", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        eventually(healthy, timeout=30, what="listening-bot serve to answer /healthz")
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

    def jobs() -> set[str]:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT id FROM apscheduler_jobs"))}

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
        assert {warn_job_id(1), end_job_id(1)} <= jobs()  # the jobs are in the database

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
        with engine.connect() as connection:
            reason = connection.execute(text("SELECT end_reason FROM breakout_round")).scalar()
        assert reason == "time"
        assert not {warn_job_id(1), end_job_id(1)} & jobs()
        assert "breakout-remind:1" in jobs()  # the reminder is scheduled and stored
    finally:
        second.stop()

    third = serve(3)  # a restart after that announces nothing again
    try:
        assert "No breakout round is running" in command("/breakout", "end").text
    finally:
        third.stop()
    assert len([c for c in slack.calls_to("chat.postMessage") if _time_up(c)]) == 2
    engine.dispose()
