"""Private answers go through the request's own response_url, and by chat.postEphemeral when
there is none, it is used up or it cannot be reached: against the fake Slack over HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.slack.kinds import Progress, SendLater
from bot.slack.private import STEP_URL_GONE, answer_now, answer_privately
from bot.standin import FakeSlack
from bot.standin.payloads import default_response_url
from storage.db import Database
from storage.outbox import Pending
from tests.harness.slack_limits import RATE_LIMITS
from tests.harness.waiting import eventually

CHANNEL, USER = "C0PRIVATE", "U0PRIVATE"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(rate_limits=RATE_LIMITS) as fake:
        fake.add_channel(CHANNEL, members=[USER])
        yield fake


def row(response_url: str | None) -> Pending:
    now = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
    return Pending(
        id=1,
        key="vote:1",
        kind="poll.voted",
        target=f"user:{USER}",
        priority=0,
        args={},
        response_url=response_url,
        created_at=now,
        due_at=now,
        expires_at=None,
        attempts=0,
        progress={},
    )


def answer(slack: FakeSlack, pending: Pending, progress: Progress, text: str = "Counted") -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    answer_privately(client, pending, progress, channel=CHANNEL, user_id=USER, text=text)


def test_an_answer_goes_to_the_requests_response_url(
    slack: FakeSlack, sqlite_database: Database
) -> None:
    pending = row(slack.response_url("click-1", channel=CHANNEL, user=USER))
    answer(slack, pending, Progress(sqlite_database, pending))
    [reply] = slack.private_replies(USER)
    assert reply.method == "response_url"
    assert reply.args["response_type"] == "ephemeral"
    assert reply.args["replace_original"] is False
    assert slack.calls_to("chat.postEphemeral") == []


def test_a_used_up_response_url_falls_back_to_an_ephemeral_message(
    slack: FakeSlack, sqlite_database: Database
) -> None:
    pending = row(slack.response_url("click-2", channel=CHANNEL, user=USER))
    for n in range(5):  # Slack takes five posts to one response_url
        answer(slack, pending, Progress(sqlite_database, pending), text=f"reply {n}")
    progress = Progress(sqlite_database, pending)
    answer(slack, pending, progress, text="the sixth")
    assert [c.status for c in slack.calls_to("response_url")] == [200] * 5 + [404]
    [ephemeral] = slack.calls_to("chat.postEphemeral")
    assert (ephemeral.args["user"], ephemeral.args["text"]) == (USER, "the sixth")
    assert progress.get(STEP_URL_GONE)  # a retry goes straight to chat.postEphemeral
    slack.violations.clear()  # the sixth use was this test's point


def test_a_response_url_answering_500_is_tried_again_later(
    slack: FakeSlack, sqlite_database: Database
) -> None:
    pending = row(slack.response_url("click-3", channel=CHANNEL, user=USER))
    slack.fail_next("response_url", status=500, error="internal_error")
    with pytest.raises(SendLater):
        answer(slack, pending, Progress(sqlite_database, pending))
    assert slack.calls_to("chat.postEphemeral") == []
    answer(slack, pending, Progress(sqlite_database, pending))
    assert [c.status for c in slack.calls_to("response_url")] == [500, 200]


@pytest.mark.parametrize(
    "response_url", [None, default_response_url("actions")], ids=["none", "unresolvable"]
)
def test_without_a_working_response_url_the_answer_is_ephemeral(
    slack: FakeSlack, sqlite_database: Database, response_url: str | None
) -> None:
    pending = row(response_url)  # none, or one that does not resolve
    answer(slack, pending, Progress(sqlite_database, pending))
    [ephemeral] = slack.calls_to("chat.postEphemeral")
    assert ephemeral.args["channel"] == CHANNEL
    assert ephemeral.args["user"] == USER


def test_a_response_url_that_drops_the_connection_is_tried_once(
    slack: FakeSlack, sqlite_database: Database
) -> None:
    """The sender's workers never sleep to try again (slack_sdk's webhook client would, for half
    a second or more): the answer goes by chat.postEphemeral at once."""
    accepted: list[socket.socket] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(10)

        def drop_connections() -> None:
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return  # closed: the test is done
                accepted.append(connection)
                connection.close()

        threading.Thread(target=drop_connections, daemon=True).start()
        pending = row(f"http://127.0.0.1:{server.getsockname()[1]}/actions/T0001/1/dropped")
        answer(slack, pending, Progress(sqlite_database, pending))
    assert len(accepted) == 1
    [ephemeral] = slack.calls_to("chat.postEphemeral")
    assert ephemeral.args["user"] == USER


def test_an_answer_now_tries_the_response_url_then_ephemeral_once_each(slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    url = slack.response_url("click-4", channel=CHANNEL, user=USER)
    slack.fail_next("response_url", status=404, error="expired_url")
    answer_now(client, url, channel=CHANNEL, user_id=USER, text="That poll has closed.")
    eventually(lambda: len(slack.calls_to("chat.postEphemeral")) == 1)
    assert [c.status for c in slack.calls_to("response_url")] == [404]
