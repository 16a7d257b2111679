"""The Zoom client's safety: a POST is never sent twice, waits end on `interrupt`, the health
observer hears every call, and a far rate-limit reset is handed to the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.standin.zoom import FakeZoom
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomNotFound,
    ZoomStopped,
    ZoomUnavailable,
    meeting_path,
)
from tests.bot.zoom.test_api import EPOCH, MEETING, Clock, make_api

POLL = {"title": "T", "questions": [{"name": "Q", "type": "single", "answers": ["a", "b"]}]}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def zoom(clock: Clock) -> Iterator[FakeZoom]:
    with FakeZoom(monotonic=clock.monotonic) as fake:
        fake.add_meeting(MEETING, topic="Stoke branch")
        yield fake


def post_poll(api: ZoomApi) -> dict[str, object]:
    return api.post(meeting_path(MEETING) + "/polls", category=Category.LIGHT, body=POLL)


def posts(zoom: FakeZoom) -> int:
    return sum(1 for call in zoom.calls if call.method == "POST")


def test_a_slow_post_is_sent_once_and_said_to_be_maybe_done(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, timeout=1.5)
    zoom.slow("POST", "/meetings/", seconds=10)  # ends when the fake stops
    with pytest.raises(ZoomUnavailable) as raised:
        post_poll(api)
    assert raised.value.maybe_done
    assert "may have reached Zoom" in raised.value.message
    assert posts(zoom) == 1
    assert clock.sleeps == []


def test_a_post_answered_5xx_is_not_sent_again(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock)
    zoom.fail("POST", "/meetings/", status=502)
    with pytest.raises(ZoomUnavailable) as raised:
        post_poll(api)
    assert raised.value.maybe_done
    assert raised.value.status == 502
    assert posts(zoom) == 1


def test_a_post_answered_429_is_retried(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock)
    zoom.fail("POST", "/meetings/", status=429)
    assert post_poll(api)["status"] == "notstart"
    assert posts(zoom) == 2
    assert len(zoom.polls(MEETING)) == 1


def test_a_post_that_never_connected_is_retried(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, api_url="http://127.0.0.1:9/v2", max_attempts=2)
    with pytest.raises(ZoomUnavailable) as raised:
        post_poll(api)
    assert not raised.value.maybe_done
    assert clock.sleeps == [1.0]


def test_a_get_that_times_out_is_still_retried(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, timeout=1.5)
    zoom.slow("GET", "/meetings/", seconds=10)  # ends when the fake stops
    assert api.get(meeting_path(MEETING), category=Category.LIGHT)["topic"] == "Stoke branch"


def test_a_far_rate_limit_reset_is_handed_to_the_caller(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock)
    resets = datetime.fromtimestamp(EPOCH + 1000 + 5 * 3600, UTC)
    zoom.fail(
        "GET",
        "/meetings/",
        status=429,
        headers={"Retry-After": resets.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )
    with pytest.raises(ZoomUnavailable) as raised:
        api.get(meeting_path(MEETING), category=Category.LIGHT)
    assert raised.value.retry_after == pytest.approx(5 * 3600)


def test_the_observer_hears_answers_and_outages_per_call(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, max_attempts=2)
    heard: list[str] = []
    api.on_answer = lambda: heard.append("up")
    api.on_unavailable = lambda error: heard.append("down")
    api.get(meeting_path(MEETING), category=Category.LIGHT)
    with pytest.raises(ZoomNotFound):
        api.get(meeting_path("89999999999"), category=Category.LIGHT)
    zoom.fail("GET", "/meetings/", status=503, times=2)
    with pytest.raises(ZoomUnavailable):
        api.get(meeting_path(MEETING), category=Category.LIGHT)
    assert heard == ["up", "up", "down"]


def test_interrupt_ends_a_backoff_wait_at_once(zoom: FakeZoom) -> None:
    # The real wait (no injected sleep): Zoom asks for 50 s, interrupt must end it.
    api = make_api(zoom, Clock(), sleep=None, monotonic=lambda: 0.0)
    zoom.fail("GET", "/meetings/", status=429, headers={"Retry-After": "50"})
    heard: list[str] = []
    api.on_unavailable = heard.append
    raised: list[BaseException] = []

    def call() -> None:
        try:
            api.get(meeting_path(MEETING), category=Category.LIGHT)
        except BaseException as error:
            raised.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = threading.Event()
    for _ in range(250):  # wait (up to 5 s) until the 429 has been answered
        if zoom.calls:
            break
        deadline.wait(0.02)
    api.interrupt()
    thread.join(5)
    assert not thread.is_alive()
    assert len(raised) == 1
    assert isinstance(raised[0], ZoomStopped)
    assert heard == []  # stopping is no outage
    assert len(zoom.calls) == 1
