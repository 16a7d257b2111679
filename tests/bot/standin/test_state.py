"""FakeSlack.subscribe: every recorded call, once, in order, outside the lock, as it happens."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.standin import Call, FakeSlack
from tests.harness.fixtures import BOT_TOKEN

TIMEOUT = 5.0


def _lock_is_free(fake: FakeSlack) -> bool:
    """Whether another thread can take the fake's lock now (a query needs it)."""
    other = threading.Thread(target=lambda: fake.calls, daemon=True)
    other.start()
    other.join(TIMEOUT)
    return not other.is_alive()


def test_subscribers_see_every_recorded_call_once_in_order(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """Web API calls (answered, refused, injected failures), uploads and response_url posts."""
    first: list[Call] = []
    second: list[Call] = []
    fake_slack.subscribe(first.append)
    fake_slack.subscribe(second.append)

    slack_web_client.chat_postMessage(channel="C1", text="hello")
    fake_slack.fail_next("chat.update", error="message_not_found")
    with pytest.raises(SlackApiError):
        slack_web_client.chat_update(channel="C1", ts="1.2", text="x")
    with pytest.raises(SlackApiError):
        WebClient(token="nope", base_url=fake_slack.api_url).auth_test()
    slack_web_client.files_upload_v2(channel="C1", content="a,b\n", filename="t.csv")
    assert WebhookClient(fake_slack.response_url("r1", channel="C1")).send(text="ok").body == "ok"

    assert [c.method for c in first] == [
        "chat.postMessage",
        "chat.update",
        "auth.test",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
        "response_url",
    ]
    assert [id(c) for c in first] == [id(c) for c in fake_slack.calls]
    assert [id(c) for c in second] == [id(c) for c in first]


def test_concurrent_calls_are_delivered_in_recording_order(fake_slack: FakeSlack) -> None:
    """Calls served on many threads reach a subscriber in the order the fake recorded them."""
    seen: list[Call] = []
    fake_slack.subscribe(seen.append)

    def post(n: int) -> None:
        client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
        for i in range(5):
            client.chat_postMessage(channel=f"C{n}{i}", text=f"{n}-{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(post, range(8)))

    assert len(seen) == 40
    assert [id(c) for c in seen] == [id(c) for c in fake_slack.calls]


def test_a_later_call_waits_for_the_delivery_of_an_earlier_one(fake_slack: FakeSlack) -> None:
    """A slow subscriber on the first call still sees it before the second, served meanwhile."""
    seen: list[str] = []

    def slow_on_first(call: Call) -> None:
        if call.args.get("text") == "first":
            # The second call is recorded while this delivery is still going on.
            fake_slack.wait_for("chat.postMessage", count=2, timeout=TIMEOUT)
        seen.append(str(call.args.get("text")))

    fake_slack.subscribe(slow_on_first)
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(client.chat_postMessage, channel="C1", text="first")
        fake_slack.wait_for("chat.postMessage", timeout=TIMEOUT)
        second = pool.submit(client.chat_postMessage, channel="C1", text="second")
        assert first.result(TIMEOUT)["ok"]
        assert second.result(TIMEOUT)["ok"]
    assert seen == ["first", "second"]


def test_subscribers_run_outside_the_lock_on_the_serving_thread(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """A callback can query the fake from any thread; it runs before the answer goes out."""
    outside: list[tuple[str, bool, str]] = []

    def watch(call: Call) -> None:
        outside.append((call.method, _lock_is_free(fake_slack), threading.current_thread().name))

    fake_slack.subscribe(watch)
    slack_web_client.chat_postMessage(channel="C1", text="hello")
    # response_url answers are decided under the lock: their recording must still wait for it.
    url = fake_slack.response_url("r1", channel="C1")
    WebhookClient(url).send(text="ok")
    fake_slack.fail_next("response_url", status=500)
    WebhookClient(url).send(text="again")
    WebhookClient(url).send(text="bad", blocks=[{"type": "nonsense"}])
    fake_slack.violations.clear()

    assert [(method, free) for method, free, _ in outside] == [
        ("chat.postMessage", True),
        ("response_url", True),
        ("response_url", True),
        ("response_url", True),
    ]
    assert threading.current_thread().name not in {name for _, _, name in outside}


def test_a_failing_subscriber_is_logged_and_breaks_nothing(
    fake_slack: FakeSlack, slack_web_client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The answer goes out, later subscribers still get the call, the error is logged."""
    seen: list[Call] = []

    def broken(call: Call) -> None:
        raise RuntimeError("transcript bug")

    fake_slack.subscribe(broken)
    fake_slack.subscribe(seen.append)
    with caplog.at_level(logging.ERROR, logger="bot.standin"):
        assert slack_web_client.chat_postMessage(channel="C1", text="hello")["ok"]
        assert slack_web_client.chat_postMessage(channel="C1", text="again")["ok"]
    assert [c.args["text"] for c in seen] == ["hello", "again"]
    failures = [r for r in caplog.records if "subscriber failed" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None
    assert "transcript bug" in str(failures[0].exc_info[1])


def test_unsubscribe_stops_the_calls(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """After unsubscribe (harmless twice) a callback hears nothing; the others still do."""
    gone: list[Call] = []
    kept: list[Call] = []
    unsubscribe = fake_slack.subscribe(gone.append)
    fake_slack.subscribe(kept.append)
    slack_web_client.chat_postMessage(channel="C1", text="one")
    unsubscribe()
    unsubscribe()
    slack_web_client.chat_postMessage(channel="C1", text="two")
    assert [c.args["text"] for c in gone] == ["one"]
    assert [c.args["text"] for c in kept] == ["one", "two"]


def test_calls_before_subscribing_are_not_replayed(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """A subscriber hears the calls recorded after it subscribed; `calls` has the history."""
    slack_web_client.chat_postMessage(channel="C1", text="before")
    seen: list[Call] = []
    fake_slack.subscribe(seen.append)
    slack_web_client.chat_postMessage(channel="C1", text="after")
    assert [c.args["text"] for c in seen] == ["after"]
    assert [c.args["text"] for c in fake_slack.calls] == ["before", "after"]
