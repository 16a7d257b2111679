"""The Zoom client against FakeZoom over loopback: token, retries, errors, budget, pages."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from bot.config import ConfigError, isolated_settings, load_settings
from bot.standin.zoom import FakeZoom
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomForbidden,
    ZoomNotFound,
    ZoomRejected,
    ZoomUnavailable,
    encode_meeting,
    meeting_path,
    zoom_api_from_settings,
)

MEETING = "81234567890"
EPOCH = 1_900_000_000.0  # the wall clock at monotonic 0 (2030-03-17)


class Clock:
    """Monotonic time that only sleeping moves: no test waits for a real backoff."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def wall(self) -> float:
        return EPOCH + self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def zoom(clock: Clock) -> Iterator[FakeZoom]:
    with FakeZoom(monotonic=clock.monotonic) as fake:
        fake.add_meeting(MEETING, topic="Stoke branch")
        yield fake


def make_api(zoom: FakeZoom, clock: Clock, **overrides: Any) -> ZoomApi:
    options: dict[str, Any] = {
        "account_id": zoom.account_id,
        "client_id": zoom.client_id,
        "client_secret": zoom.client_secret,
        "api_url": zoom.api_url,
        "oauth_url": zoom.oauth_url,
        "monotonic": clock.monotonic,
        "sleep": clock.sleep,
        "wall_clock": clock.wall,
        "jitter": lambda: 0.5,  # backoff exactly 1, 2, 4 s
        **overrides,
    }
    return ZoomApi(**options)


@pytest.fixture
def api(zoom: FakeZoom, clock: Clock) -> ZoomApi:
    return make_api(zoom, clock)


def get_meeting(api: ZoomApi) -> dict[str, Any]:
    return api.get(meeting_path(MEETING), category=Category.LIGHT)


# -- the token ---------------------------------------------------------------


def test_construction_makes_no_request_and_the_first_call_fetches_the_token(
    zoom: FakeZoom, clock: Clock
) -> None:
    make_api(zoom, clock, oauth_url="http://127.0.0.1:9/oauth/token")  # nothing listens there
    api = make_api(zoom, clock)
    assert zoom.token_requests == 0
    assert zoom.calls == []

    assert get_meeting(api)["topic"] == "Stoke branch"
    assert zoom.token_requests == 1
    assert zoom.calls[0].token is not None


def test_one_token_serves_many_calls(api: ZoomApi, zoom: FakeZoom, clock: Clock) -> None:
    for _ in range(3):
        get_meeting(api)
        clock.now += 600
    assert zoom.token_requests == 1
    assert len({call.token for call in zoom.calls}) == 1


def test_the_token_is_renewed_when_a_minute_is_left(
    api: ZoomApi, zoom: FakeZoom, clock: Clock
) -> None:
    get_meeting(api)
    clock.now += 3600 - 61
    get_meeting(api)
    assert zoom.token_requests == 1
    clock.now += 2  # 59 s left
    get_meeting(api)
    assert zoom.token_requests == 2
    assert zoom.calls[1].token != zoom.calls[2].token
    assert [call.status for call in zoom.calls] == [200, 200, 200]


def test_a_token_refused_mid_session_is_renewed_once_and_the_call_retried(
    api: ZoomApi, zoom: FakeZoom, clock: Clock
) -> None:
    get_meeting(api)
    zoom.expire_tokens()
    assert get_meeting(api)["id"] == int(MEETING)
    assert [call.status for call in zoom.calls] == [200, 401, 200]
    assert zoom.token_requests == 2
    assert clock.sleeps == []


def test_a_fresh_token_refused_means_wrong_credentials(api: ZoomApi, zoom: FakeZoom) -> None:
    zoom.fail("GET", "/meetings/", status=401, times=2)
    with pytest.raises(ZoomForbidden) as raised:
        get_meeting(api)
    assert "ZOOM_CLIENT_ID" in raised.value.message
    assert "ZOOM_CLIENT_SECRET" in raised.value.message
    assert raised.value.code == 124
    assert zoom.token_requests == 2
    assert len(zoom.calls) == 2


def test_threads_refused_together_renew_the_token_once(zoom: FakeZoom) -> None:
    api = ZoomApi(
        account_id=zoom.account_id,
        client_id=zoom.client_id,
        client_secret=zoom.client_secret,
        api_url=zoom.api_url,
        oauth_url=zoom.oauth_url,
    )
    get_meeting(api)
    zoom.expire_tokens()
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(get_meeting(api))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 8
    assert zoom.token_requests == 2


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"status": 503}, "HTTP 503"),
        ({"status": 502, "raw_body": b"<html>Bad gateway</html>"}, "HTTP 502"),
        ({"status": 200, "raw_body": b"not json"}, "HTTP 200"),
        ({"status": 429}, "HTTP 429"),
    ],
)
def test_a_failing_token_endpoint_means_try_later(
    api: ZoomApi, zoom: FakeZoom, fault: dict[str, Any], message: str
) -> None:
    zoom.fail("POST", "/oauth/token", **fault)
    with pytest.raises(ZoomUnavailable, match=message):
        get_meeting(api)
    assert zoom.calls == []


def test_a_silent_token_endpoint_means_try_later(zoom: FakeZoom, clock: Clock) -> None:
    # A timeout a normal answer beats on a loaded machine; the slow one ends when the fake stops.
    api = make_api(zoom, clock, timeout=1.5)
    zoom.slow("POST", "/oauth/token", seconds=10)
    with pytest.raises(ZoomUnavailable, match=re.escape("did not answer within 1.5s")):
        get_meeting(api)


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_secret": "wrong"},
        {"client_id": "someone-else"},
        {"account_id": "another-account"},
    ],
)
def test_refused_credentials_name_the_settings(
    zoom: FakeZoom, clock: Clock, credentials: dict[str, str]
) -> None:
    api = make_api(zoom, clock, **credentials)
    with pytest.raises(ZoomForbidden) as raised:
        get_meeting(api)
    assert raised.value.message.startswith(
        "Zoom refused the credentials: check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET"
    )
    assert zoom.calls == []


# -- retries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"X-RateLimit-Reset": "2"}, 2.0),
        ({"X-RateLimit-Reset": str(int(EPOCH + 1000 + 3))}, 3.0),  # epoch seconds
        ({"Retry-After": "5"}, 5.0),
        (
            {
                "Retry-After": format_datetime(
                    datetime.fromtimestamp(EPOCH + 1007, UTC), usegmt=True
                )
            },
            7.0,
        ),
        ({"Retry-After": datetime.fromtimestamp(EPOCH + 1010, UTC).isoformat()}, 10.0),
    ],
)
def test_a_429_waits_as_its_headers_say(
    api: ZoomApi, zoom: FakeZoom, clock: Clock, headers: dict[str, str], wait: float
) -> None:
    zoom.fail("GET", "/meetings/", status=429, headers=headers)
    assert get_meeting(api)["topic"] == "Stoke branch"
    assert clock.sleeps == [pytest.approx(wait)]
    assert [call.status for call in zoom.calls] == [429, 200]


def test_a_rate_limit_that_resets_in_hours_raises_at_once(
    api: ZoomApi, zoom: FakeZoom, clock: Clock
) -> None:
    resets = datetime.fromtimestamp(EPOCH + 1000 + 5 * 3600, UTC)
    zoom.fail(
        "GET",
        "/metrics/",
        status=429,
        headers={"Retry-After": resets.strftime("%Y-%m-%dT%H:%M:%SZ")},
        body={
            "code": 429,
            "message": "You have reached the maximum daily rate limit for this API.",
        },
    )
    with pytest.raises(ZoomUnavailable) as raised:
        api.get(f"/metrics/meetings/{MEETING}/participants", category=Category.HEAVY)
    assert f"until {resets:%Y-%m-%d %H:%M} UTC (in 5 h 00 min)" in raised.value.message
    assert "heavy" in raised.value.message
    assert raised.value.status == 429
    assert clock.sleeps == []
    assert len(zoom.calls) == 1


def test_a_daily_limit_without_a_time_waits_for_midnight_utc(
    api: ZoomApi, zoom: FakeZoom, clock: Clock
) -> None:
    zoom.fail("PATCH", "/meetings/", status=429, headers={"X-RateLimit-Type": "Daily-limit"})
    with pytest.raises(ZoomUnavailable, match=r"until \d{4}-\d\d-\d\d 00:00 UTC"):
        api.patch(meeting_path(MEETING), category=Category.LIGHT, body={"topic": "x"})
    assert clock.sleeps == []


def test_the_daily_meeting_update_cap_of_the_fake_raises_at_once(clock: Clock) -> None:
    def now() -> datetime:
        return datetime.fromtimestamp(clock.wall(), UTC)

    with FakeZoom(monotonic=clock.monotonic, now=now, patch_daily_limit=1) as capped:
        capped.add_meeting(MEETING)
        api = make_api(capped, clock)
        api.patch(meeting_path(MEETING), category=Category.LIGHT, body={"topic": "a"})
        with pytest.raises(ZoomUnavailable, match="00:00 UTC"):
            api.patch(meeting_path(MEETING), category=Category.LIGHT, body={"topic": "b"})
    assert clock.sleeps == []


def test_a_bare_429_backs_off_exponentially(api: ZoomApi, zoom: FakeZoom, clock: Clock) -> None:
    zoom.fail("GET", "/meetings/", status=429, times=3)
    assert get_meeting(api)["topic"] == "Stoke branch"
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_backoff_has_jitter(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, jitter=lambda: 0.0)
    zoom.fail("GET", "/meetings/", status=429, times=2)
    get_meeting(api)
    assert clock.sleeps == [0.75, 1.5]


def test_429s_past_the_attempts_mean_try_later(api: ZoomApi, zoom: FakeZoom) -> None:
    zoom.fail("GET", "/meetings/", status=429, times=4)
    with pytest.raises(ZoomUnavailable, match="after 4 attempts") as raised:
        get_meeting(api)
    assert raised.value.status == 429
    assert len(zoom.calls) == 4


def test_no_call_waits_longer_than_max_wait(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, max_wait=2.5)
    zoom.fail("GET", "/meetings/", status=503, times=3)
    with pytest.raises(ZoomUnavailable, match=re.escape("over 2.5s")):
        get_meeting(api)
    assert clock.sleeps == [1.0]  # the next 2 s would make 3 s
    assert len(zoom.calls) == 2


def test_server_errors_are_retried(api: ZoomApi, zoom: FakeZoom, clock: Clock) -> None:
    zoom.fail("GET", "/meetings/", status=500)
    zoom.fail("GET", "/meetings/", status=502, raw_body=b"<html>oops</html>")
    assert get_meeting(api)["topic"] == "Stoke branch"
    assert [call.status for call in zoom.calls] == [500, 502, 200]
    assert clock.sleeps == [1.0, 2.0]


def test_a_slow_answer_is_retried_then_given_up(
    zoom: FakeZoom, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1.5 s: zoomus would int-cast it to 1; the client keeps the fraction, and requests gets it.
    timeouts: list[object] = []
    real_get = requests.get

    def get(*args: Any, **kwargs: Any) -> requests.Response:
        timeouts.append(kwargs.get("timeout"))
        return real_get(*args, **kwargs)

    monkeypatch.setattr(requests, "get", get)
    api = make_api(zoom, clock, timeout=1.5, max_attempts=2)
    zoom.slow("GET", "/meetings/", seconds=10, times=2)  # ends when the fake stops
    with pytest.raises(
        ZoomUnavailable, match=re.escape("did not answer GET /meetings/81234567890 within 1.5s")
    ):
        get_meeting(api)
    assert len(zoom.calls) == 2
    assert timeouts == [1.5, 1.5]
    assert clock.sleeps == [1.0]


def test_a_slow_answer_then_a_quick_one_succeeds(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, timeout=1.5)
    zoom.slow("GET", "/meetings/", seconds=10)  # ends when the fake stops
    assert get_meeting(api)["topic"] == "Stoke branch"
    assert len(zoom.calls) == 2


def test_an_unreachable_api_means_try_later(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, api_url="http://127.0.0.1:9/v2", max_attempts=2)
    with pytest.raises(ZoomUnavailable, match="could not reach Zoom"):
        get_meeting(api)
    assert clock.sleeps == [1.0]


# -- errors ----------------------------------------------------------------------


def test_an_unknown_meeting_is_not_found_and_not_retried(api: ZoomApi, zoom: FakeZoom) -> None:
    with pytest.raises(ZoomNotFound) as raised:
        api.get(meeting_path("89999999999"), category=Category.LIGHT)
    assert raised.value.status == 404
    assert raised.value.code == 3001
    assert raised.value.message == "Meeting does not exist: 89999999999."
    assert str(raised.value) == "Meeting does not exist: 89999999999. (HTTP 404, Zoom code 3001)"
    assert len(zoom.calls) == 1


def test_a_bad_poll_is_rejected_with_zooms_words(api: ZoomApi, zoom: FakeZoom) -> None:
    body = {"title": "T", "questions": [{"name": "Q", "type": "single", "answers": ["only"]}]}
    with pytest.raises(ZoomRejected) as raised:
        api.post(meeting_path(MEETING) + "/polls", category=Category.LIGHT, body=body)
    assert raised.value.code == 4400
    assert "2 to 10 answers" in raised.value.message
    assert len(zoom.calls) == 1


def test_a_feature_outside_the_plan_is_forbidden(clock: Clock) -> None:
    with FakeZoom(plan="pro", monotonic=clock.monotonic) as pro:
        pro.add_meeting(MEETING)
        api = make_api(pro, clock)
        with pytest.raises(ZoomForbidden) as raised:
            api.get(f"/metrics/meetings/{MEETING}/participants", category=Category.HEAVY)
    assert raised.value.code == 200
    assert "Business" in raised.value.message


def test_a_403_is_forbidden(api: ZoomApi, zoom: FakeZoom) -> None:
    zoom.fail("GET", "/meetings/", status=403, body={"code": 4711, "message": "No permission."})
    with pytest.raises(ZoomForbidden, match=re.escape("No permission.")):
        get_meeting(api)


def test_patch_and_delete_answer_an_empty_object(api: ZoomApi, zoom: FakeZoom) -> None:
    rooms = {"enable": True, "rooms": [{"name": "Room 1", "participants": ["a@example.com"]}]}
    assert (
        api.patch(
            meeting_path(MEETING),
            category=Category.LIGHT,
            body={"settings": {"breakout_room": rooms}},
        )
        == {}
    )
    assert zoom.meeting(MEETING)["settings"]["breakout_room"] == rooms
    poll = api.post(
        meeting_path(MEETING) + "/polls",
        category=Category.LIGHT,
        body={
            "title": "T",
            "questions": [{"name": "Q", "type": "multiple", "answers": ["a", "b"]}],
        },
    )
    assert poll["status"] == "notstart"
    assert api.delete(meeting_path(MEETING) + f"/polls/{poll['id']}", category=Category.LIGHT) == {}
    assert zoom.polls(MEETING) == []


# -- budget ------------------------------------------------------------------------


def test_calls_keep_under_the_scaled_rate(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, plan="pro", rate_scale=0.1)  # light 30/s -> 3/s
    start = clock.now
    for _ in range(10):
        get_meeting(api)
    starts = [call.at for call in zoom.calls]
    assert all(sum(1 for t in starts if s <= t < s + 1) <= 3 for s in starts)
    assert clock.now - start == pytest.approx(3.0)  # 3 + 3 + 3 + 1 calls over 3 s
    assert api.calls == {"light": 10, "medium": 0, "heavy": 0}
    assert api.budget_used()["light"] == 1.0


def test_each_category_has_its_own_budget(zoom: FakeZoom, clock: Clock) -> None:
    api = make_api(zoom, clock, plan="free")  # heavy 1/s, light 4/s
    zoom.set_live_participants(MEETING, [])
    path = f"/metrics/meetings/{MEETING}/participants"
    api.get(path, category=Category.HEAVY)
    api.get(path, category=Category.HEAVY)
    assert clock.sleeps == [1.0]
    for _ in range(4):
        get_meeting(api)
    assert clock.sleeps == [1.0]
    assert api.calls == {"light": 4, "medium": 0, "heavy": 2}
    assert api.budget_used() == {"light": 1.0, "medium": 0.0, "heavy": 1.0}


def test_retries_are_counted_as_calls(api: ZoomApi, zoom: FakeZoom) -> None:
    zoom.fail("GET", "/meetings/", status=500)
    get_meeting(api)
    assert api.calls["light"] == 2


def test_an_unknown_plan_is_refused(zoom: FakeZoom, clock: Clock) -> None:
    with pytest.raises(ValueError, match="unknown Zoom plan"):
        make_api(zoom, clock, plan="gold")


# -- pages and paths -------------------------------------------------------------------


def test_pages_follow_next_page_token(api: ZoomApi, zoom: FakeZoom) -> None:
    rows = [{"id": "", "user_name": f"Person {i}", "participant_uuid": f"p{i}"} for i in range(7)]
    zoom.set_live_participants(MEETING, rows)
    got = list(
        api.pages(
            f"/metrics/meetings/{MEETING}/participants",
            category=Category.HEAVY,
            key="participants",
            params={"type": "live"},
            page_size=3,
        )
    )
    assert got == rows
    queries = [call.query for call in zoom.calls]
    assert [q.get("page_size") for q in queries] == ["3", "3", "3"]
    assert all(q["type"] == "live" for q in queries)
    assert "next_page_token" not in queries[0]
    assert queries[1]["next_page_token"] != queries[2]["next_page_token"]


@pytest.mark.parametrize(
    ("reference", "segment"),
    [
        ("/abc==", "%252Fabc%253D%253D"),
        ("ab//c==", "ab%252F%252Fc%253D%253D"),
        ("abc+/d==", "abc%2B%2Fd%3D%3D"),
        ("4444AAAiAAAAAiAiAiiAii==", "4444AAAiAAAAAiAiAiiAii%3D%3D"),
        ("81234567890", "81234567890"),
    ],
)
def test_meeting_references_are_encoded_as_zoom_asks(reference: str, segment: str) -> None:
    assert encode_meeting(reference) == segment
    assert meeting_path(reference) == "/meetings/" + segment


@pytest.mark.parametrize("uuid", ["/abc==", "ab//c==", "abc+/d=="])
def test_encoded_instance_uuids_reach_their_meeting(
    api: ZoomApi, zoom: FakeZoom, uuid: str
) -> None:
    zoom.start_meeting(MEETING, uuid=uuid)
    zoom.set_past_participants(uuid, [{"name": "Ann", "user_email": "ann@example.com"}])
    path = "/past_meetings/" + encode_meeting(uuid) + "/participants"
    rows = list(api.pages(path, category=Category.MEDIUM, key="participants"))
    assert rows == [{"name": "Ann", "user_email": "ann@example.com"}]


# -- settings ------------------------------------------------------------------------------


def test_no_client_without_zoom_credentials() -> None:
    assert zoom_api_from_settings(isolated_settings()) is None


def test_the_client_from_settings_talks_to_the_configured_zoom(zoom: FakeZoom) -> None:
    settings = isolated_settings(
        ZOOM_ACCOUNT_ID=zoom.account_id,
        ZOOM_CLIENT_ID=zoom.client_id,
        ZOOM_CLIENT_SECRET=zoom.client_secret,
        ZOOM_API_URL=zoom.api_url,
        ZOOM_OAUTH_URL=zoom.oauth_url,
        ZOOM_PLAN="Business",
        ZOOM_TIMEOUT_SECONDS=2.5,
    )
    api = zoom_api_from_settings(settings)
    assert api is not None
    assert api.timeout == 2.5
    assert zoom.token_requests == 0
    assert get_meeting(api)["topic"] == "Stoke branch"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("ZOOM_PLAN", "gold", "ZOOM_PLAN must be free, pro or business, not 'gold'"),
        ("ZOOM_TIMEOUT_SECONDS", "0", "ZOOM_TIMEOUT_SECONDS Input should be greater than 0"),
    ],
)
def test_bad_zoom_plan_or_timeout_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    assert str(raised.value).startswith(problem)
    assert raised.value.variable == variable


def test_zoom_plan_and_timeout_default_to_pro_and_ten_seconds() -> None:
    settings = isolated_settings()
    assert (settings.ZOOM_PLAN, settings.ZOOM_TIMEOUT_SECONDS) == ("pro", 10.0)
