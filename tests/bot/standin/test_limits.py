"""FakeSlack's rate limits, driven by the real slack_sdk clients with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.standin import (
    METHOD_TIER,
    POST_MESSAGE_PER_CHANNEL,
    RESPONSE_URL_USES,
    RESPONSE_URL_WINDOW,
    TIERS,
    UNLIMITED,
    FakeSlack,
    RateLimits,
    TokenBucket,
    retry_after_seconds,
)
from tests.harness.fixtures import BOT_TOKEN


class FakeClock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limited(clock: FakeClock) -> Iterator[FakeSlack]:
    """A FakeSlack enforcing Slack's limits at Slack's own pace (scale 1) on the fake clock."""
    with FakeSlack(rate_limits=RateLimits(scale=1.0, clock=clock)) as fake:
        yield fake
        fake.assert_no_violations()


def _client(fake: FakeSlack, token: str = BOT_TOKEN) -> WebClient:
    """A WebClient without retry handlers for 429, so each 429 reaches the test."""
    return WebClient(token=token, base_url=fake.api_url)


def _rate_limited(call: Any) -> int:
    """Make a call that must be answered 429 ratelimited; return its Retry-After."""
    with pytest.raises(SlackApiError) as info:
        call()
    response = info.value.response
    assert response.status_code == 429
    assert response["ok"] is False
    assert response["error"] == "ratelimited"
    headers = {k.lower(): v for k, v in response.headers.items()}
    value = headers["retry-after"]
    value = value[0] if isinstance(value, list) else value
    assert str(value).isdigit(), value  # whole seconds
    retry_after = int(value)
    assert retry_after >= 1
    return retry_after


def test_token_bucket_bursts_then_refills_at_its_rate(clock: FakeClock) -> None:
    """A bucket allows its capacity at once, then one call per 1/rate seconds."""
    bucket = TokenBucket(rate=2.0, capacity=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == pytest.approx(0.5)
    assert bucket.try_take() == pytest.approx(0.5)  # a refused call spends nothing
    clock.advance(0.5)
    assert bucket.try_take() == 0.0
    clock.advance(10)  # refills up to capacity, not beyond
    assert [bucket.try_take() for _ in range(4)][-1] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate=0, capacity=1)
    assert retry_after_seconds(0.01) == 1
    assert retry_after_seconds(1.2) == 2
    assert retry_after_seconds(2.0) == 2


def test_tier3_method_bursts_then_429s_and_recovers_after_retry_after(
    limited: FakeSlack, clock: FakeClock
) -> None:
    """chat.update (Tier 3, 50/min) allows its burst, then 429s until Retry-After has passed."""
    client = _client(limited)
    ts = client.chat_postMessage(channel="C1", text="tally")["ts"]
    burst = TIERS[METHOD_TIER["chat.update"]].burst
    for n in range(burst):
        client.chat_update(channel="C1", ts=ts, text=f"tally {n}")

    retry_after = _rate_limited(lambda: client.chat_update(channel="C1", ts=ts, text="too fast"))
    assert retry_after == 2  # one call per 1.2 s at 50/min, rounded up to whole seconds
    assert limited.messages("C1")[0]["text"] == f"tally {burst - 1}"  # the 429 changed nothing
    call = limited.last("chat.update")
    assert (call.failed, call.injected, call.status, call.rate_limited) == (True, False, 429, True)
    assert limited.rate_limited("chat.update") == 1
    assert limited.rate_limited("chat.postMessage") == 0
    assert limited.rate_limited() == 1

    clock.advance(retry_after - 1)
    _rate_limited(lambda: client.chat_update(channel="C1", ts=ts, text="still too fast"))
    clock.advance(1)
    assert client.chat_update(channel="C1", ts=ts, text="in time")["ok"]
    assert limited.messages("C1")[0]["text"] == "in time"
    assert limited.rate_limited() == 2


def test_post_message_is_limited_per_channel_not_across_channels(
    limited: FakeSlack, clock: FakeClock
) -> None:
    """chat.postMessage's 1/s rule counts each channel separately."""
    client = _client(limited)
    burst = POST_MESSAGE_PER_CHANNEL.burst
    for n in range(burst):
        client.chat_postMessage(channel="C1", text=f"c1 {n}")
    assert _rate_limited(lambda: client.chat_postMessage(channel="C1", text="x")) == 1
    # Other methods have budgets of their own, even in that channel.
    ts = limited.messages("C1")[0]["ts"]
    assert client.chat_update(channel="C1", ts=ts, text="edited")["ok"]
    for n in range(burst):  # another channel has its own budget
        client.chat_postMessage(channel="C2", text=f"c2 {n}")
    assert len(limited.messages("C1")) == burst
    assert len(limited.messages("C2")) == burst
    assert limited.rate_limited("chat.postMessage") == 1
    clock.advance(1)
    assert client.chat_postMessage(channel="C1", text="a second later")["ok"]


def test_limits_are_per_token(clock: FakeClock) -> None:
    """Each token (app x workspace) has its own budget for a method."""
    limits = RateLimits(scale=1.0, clock=clock)
    with FakeSlack(socket_mode_url="ws://127.0.0.1:1/", rate_limits=limits) as fake:
        first = _client(fake, "xapp-1-A0001-1-first")
        second = _client(fake, "xapp-1-A0001-1-second")
        burst = TIERS[METHOD_TIER["apps.connections.open"]].burst  # Tier 1
        for _ in range(burst):
            first.apps_connections_open(app_token="xapp-1-A0001-1-first")
        retry_after = _rate_limited(
            lambda: first.apps_connections_open(app_token="xapp-1-A0001-1-first")
        )
        assert retry_after == 60  # Tier 1: one per minute
        for _ in range(burst):
            second.apps_connections_open(app_token="xapp-1-A0001-1-second")
        assert fake.rate_limited("apps.connections.open") == 1


def test_response_url_refuses_a_sixth_use_and_expires_after_its_window(
    limited: FakeSlack, clock: FakeClock
) -> None:
    """5 uses within 30 minutes of the invocation; after that Slack refuses the URL (404)."""
    url = limited.response_url("vote", channel="C1")
    for _ in range(RESPONSE_URL_USES):
        assert WebhookClient(url).send(text="ok").status_code == 200
    sixth = WebhookClient(url).send(text="one too many")
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert "more than 5 times" in limited.violations[0]
    limited.violations.clear()

    late = limited.response_url("late", channel="C1")
    clock.advance(RESPONSE_URL_WINDOW - 1)
    assert WebhookClient(late).send(text="just in time").status_code == 200
    clock.advance(1)
    expired = WebhookClient(late).send(text="too late")
    assert (expired.status_code, expired.body) == (404, "expired_url")
    assert limited.last("response_url").failed
    # A URL issued now (a new interaction) works again.
    assert WebhookClient(limited.response_url("fresh")).send(text="ok").status_code == 200
    assert limited.violations == []


def test_response_url_window_is_divided_by_the_scale(clock: FakeClock) -> None:
    """At x20 the 30-minute window lasts 90 seconds of the clock."""
    with FakeSlack(rate_limits=RateLimits(scale=20.0, clock=clock)) as fake:
        url = fake.response_url("r")
        clock.advance(RESPONSE_URL_WINDOW / 20 - 0.5)
        assert WebhookClient(url).send(text="ok").status_code == 200
        clock.advance(0.5)
        assert WebhookClient(url).send(text="late").status_code == 404


def test_the_scale_multiplies_rates(clock: FakeClock) -> None:
    """The same wait refills a budget at x10 but not at x1; the burst is not scaled."""
    refilled: list[int] = []
    for scale in (1.0, 10.0):
        with FakeSlack(rate_limits=RateLimits(scale=scale, clock=clock)) as fake:
            client = _client(fake)
            for n in range(POST_MESSAGE_PER_CHANNEL.burst):
                client.chat_postMessage(channel="C1", text=str(n))
            _rate_limited(lambda client=client: client.chat_postMessage(channel="C1", text="x"))
            clock.advance(0.1)  # one call's worth of time at 10/s, a tenth of one at 1/s
            try:
                client.chat_postMessage(channel="C1", text="after 0.1 s")
            except SlackApiError as exc:
                refilled.append(exc.response.status_code)
            else:
                refilled.append(200)
    assert refilled == [429, 200]
    limits = RateLimits(scale=20.0)
    assert limits.per_second(TIERS["tier3"]) == pytest.approx(50 * 20 / 60)
    with pytest.raises(ValueError, match="positive"):
        RateLimits(scale=0)


def test_unlimited_is_really_unlimited() -> None:
    """UNLIMITED never answers 429, whatever the pace; the default is Slack's limits."""
    assert FakeSlack().rate_limits != UNLIMITED
    assert FakeSlack().rate_limits.enabled
    with FakeSlack(socket_mode_url="ws://127.0.0.1:1/", rate_limits=UNLIMITED) as fake:
        client = _client(fake)
        for n in range(120):
            client.chat_postMessage(channel="C1", text=str(n))
            client.chat_update(channel="C1", ts=fake.messages("C1")[0]["ts"], text=str(n))
        for _ in range(10):
            client.apps_connections_open(app_token="xapp-1-A0001-1-fake")  # Tier 1
        assert fake.rate_limited() == 0
        assert not any(c.status == 429 for c in fake.calls)


def test_the_default_is_slacks_own_pace() -> None:
    """FakeSlack() enforces Slack's limits at scale 1.0 (a rehearsal's pace); UNLIMITED opts out."""
    assert RateLimits().scale == 1.0
    assert FakeSlack().rate_limits.enabled
    assert FakeSlack().rate_limits.scale == 1.0
    assert not FakeSlack(rate_limits=UNLIMITED).rate_limits.enabled


def test_injected_429s_come_first_and_are_not_counted_as_rate_limited(
    limited: FakeSlack,
) -> None:
    """fail_next keeps working under limits; rate_limited() counts only the fake's own 429s."""
    client = _client(limited)
    limited.fail_next("chat.postMessage", status=429, retry_after=7)
    assert _rate_limited(lambda: client.chat_postMessage(channel="C1", text="x")) == 7
    assert limited.last("chat.postMessage").injected
    assert limited.rate_limited() == 0


def test_reset_refills_budgets(limited: FakeSlack) -> None:
    """reset() forgets used budgets along with the calls."""
    client = _client(limited)
    for n in range(POST_MESSAGE_PER_CHANNEL.burst):
        client.chat_postMessage(channel="C1", text=str(n))
    _rate_limited(lambda: client.chat_postMessage(channel="C1", text="x"))
    limited.reset()
    assert client.chat_postMessage(channel="C1", text="after reset")["ok"]


def test_every_served_method_has_a_documented_tier() -> None:
    """The table names a known tier for every Web API method the fake answers."""
    assert set(FakeSlack._METHODS) <= set(METHOD_TIER)
    assert set(METHOD_TIER.values()) <= set(TIERS)
    for tier in TIERS.values():
        assert tier.per_minute > 0
        assert tier.burst >= 1
