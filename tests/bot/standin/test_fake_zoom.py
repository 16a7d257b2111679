"""FakeZoom answers like Zoom, over HTTP; the webhook sender signs like Zoom."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bot.clock import FixedClock
from bot.standin.server import Answer, StandInServer, json_answer
from bot.standin.zoom import FakeZoom, ZoomWebhookSender, signed_headers, webhook_body
from bot.zoom.webhook import ZoomWebhook

MEETING = "81234567890"
NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


class Monotonic:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic() -> Monotonic:
    return Monotonic()


@pytest.fixture
def zoom(monotonic: Monotonic) -> Iterator[FakeZoom]:
    with FakeZoom(monotonic=monotonic, now=lambda: NOW, token_ttl=100) as fake:
        fake.add_meeting(MEETING, host_email="host@example.com")
        yield fake


class Client:
    """Plain HTTP calls to the fake, with a token fetched the way Zoom documents."""

    def __init__(self, zoom: FakeZoom) -> None:
        self.zoom = zoom
        self.token = token_answer(zoom).json()["access_token"]

    def call(self, verb: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return requests.request(
            verb,
            self.zoom.api_url + path,
            params=params,
            data=None if body is None else json.dumps(body),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            timeout=5,
        )


@pytest.fixture
def client(zoom: FakeZoom) -> Client:
    return Client(zoom)


def token_answer(zoom: FakeZoom, **overrides: str) -> requests.Response:
    creds = {
        "account_id": zoom.account_id,
        "client_id": zoom.client_id,
        "client_secret": zoom.client_secret,
        **overrides,
    }
    return requests.post(
        zoom.oauth_url,
        params={"grant_type": "account_credentials", "account_id": creds["account_id"]},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=5,
    )


def poll(**changes: Any) -> dict[str, Any]:
    question = {"name": "Do you agree?", "type": "single", "answers": ["Yes", "No"]}
    return {"title": "Agreement", "questions": [question], **changes}


# -- token and bearer ------------------------------------------------------------------


def test_the_token_endpoint_issues_s2s_tokens(zoom: FakeZoom) -> None:
    answer = token_answer(zoom)
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "bearer"
    assert answer.json()["expires_in"] == 100
    assert zoom.token_requests == 1


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"account_id": "other"}, 400, "invalid_request"),
    ],
)
def test_the_token_endpoint_refuses_wrong_credentials(
    zoom: FakeZoom, overrides: dict[str, str], status: int, error: str
) -> None:
    answer = token_answer(zoom, **overrides)
    assert answer.status_code == status
    assert answer.json()["error"] == error


@pytest.mark.parametrize("token", [None, "made-up"])
def test_api_calls_need_a_token_it_issued(zoom: FakeZoom, token: str | None) -> None:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    answer = requests.get(f"{zoom.api_url}/meetings/{MEETING}", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"code": 124, "message": "Invalid access token."}


def test_tokens_expire_after_their_ttl(
    zoom: FakeZoom, client: Client, monotonic: Monotonic
) -> None:
    monotonic.now += 99
    assert client.call("GET", f"/meetings/{MEETING}").status_code == 200
    monotonic.now += 1
    assert client.call("GET", f"/meetings/{MEETING}").status_code == 401


def test_expire_tokens_refuses_the_old_ones_only(zoom: FakeZoom, client: Client) -> None:
    zoom.expire_tokens()
    assert client.call("GET", f"/meetings/{MEETING}").status_code == 401
    assert Client(zoom).call("GET", f"/meetings/{MEETING}").status_code == 200


# -- meetings ------------------------------------------------------------------------------


def test_a_meeting_has_zooms_shape(zoom: FakeZoom, client: Client) -> None:
    meeting = client.call("GET", f"/meetings/{MEETING}").json()
    assert meeting["id"] == int(MEETING)
    assert meeting["type"] == 2
    assert meeting["start_time"] == "2031-11-21T18:30:00Z"
    assert meeting["settings"]["breakout_room"] == {"enable": False}
    assert meeting == zoom.meeting(MEETING)


def test_an_unknown_meeting_is_zoom_code_3001(client: Client) -> None:
    answer = client.call("GET", "/meetings/89999999999")
    assert answer.status_code == 404
    assert answer.json() == {"code": 3001, "message": "Meeting does not exist: 89999999999."}


def test_patch_merges_settings(zoom: FakeZoom, client: Client) -> None:
    rooms = [{"name": "Room 1", "participants": ["a@example.com"]}]
    first = client.call(
        "PATCH", f"/meetings/{MEETING}", {"settings": {"breakout_room": {"rooms": rooms}}}
    )
    second = client.call(
        "PATCH", f"/meetings/{MEETING}", {"settings": {"breakout_room": {"enable": True}}}
    )
    assert (first.status_code, second.status_code, first.content) == (204, 204, b"")
    settings = zoom.meeting(MEETING)["settings"]
    assert settings["breakout_room"] == {"enable": True, "rooms": rooms}
    assert settings["approval_type"] == 2


def test_patch_refuses_over_a_hundred_rooms(client: Client) -> None:
    rooms = [{"name": f"Room {i}", "participants": []} for i in range(101)]
    answer = client.call(
        "PATCH", f"/meetings/{MEETING}", {"settings": {"breakout_room": {"rooms": rooms}}}
    )
    assert answer.status_code == 400
    assert "100" in answer.json()["message"]


def test_meeting_updates_are_capped_per_host_per_day(monotonic: Monotonic) -> None:
    with FakeZoom(monotonic=monotonic, now=lambda: NOW, patch_daily_limit=2) as zoom:
        zoom.add_meeting(MEETING)
        client = Client(zoom)
        statuses = [client.call("PATCH", f"/meetings/{MEETING}", {"topic": "t"}) for _ in range(3)]
    assert [a.status_code for a in statuses] == [204, 204, 429]
    assert statuses[2].headers["Retry-After"] == "2031-11-22T00:00:00Z"
    assert "daily rate limit (2)" in statuses[2].json()["message"]


# -- polls ----------------------------------------------------------------------------------


def test_a_poll_is_created_listed_and_deleted(zoom: FakeZoom, client: Client) -> None:
    created = client.call("POST", f"/meetings/{MEETING}/polls", poll(anonymous=True))
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "notstart"
    assert body["anonymous"] is True
    assert body["questions"] == poll()["questions"]
    assert zoom.polls(MEETING) == [body]
    assert client.call("DELETE", f"/meetings/{MEETING}/polls/{body['id']}").status_code == 204
    assert zoom.polls(MEETING) == []
    assert client.call("DELETE", f"/meetings/{MEETING}/polls/{body['id']}").status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        poll(title="x" * 65),
        poll(title=""),
        poll(questions=[]),
        poll(questions=[{"name": "Q", "type": "single", "answers": ["only"]}]),
        poll(questions=[{"name": "Q", "type": "single", "answers": [str(i) for i in range(11)]}]),
        poll(questions=[{"name": "Q", "type": "rank", "answers": ["a", "b"]}]),
    ],
)
def test_a_poll_zoom_would_refuse_is_refused(zoom: FakeZoom, client: Client, bad: Any) -> None:
    answer = client.call("POST", f"/meetings/{MEETING}/polls", bad)
    assert answer.status_code == 400
    assert answer.json()["code"] == 4400
    assert zoom.polls(MEETING) == []


def test_a_title_of_64_characters_and_ten_answers_are_allowed(client: Client) -> None:
    question = {"name": "Q", "type": "multiple", "answers": [str(i) for i in range(10)]}
    answer = client.call(
        "POST", f"/meetings/{MEETING}/polls", poll(title="x" * 64, questions=[question])
    )
    assert answer.status_code == 201


def test_instant_meetings_take_no_polls(zoom: FakeZoom, client: Client) -> None:
    zoom.add_meeting("81111111111", type=1)
    answer = client.call("POST", "/meetings/81111111111/polls", poll())
    assert answer.status_code == 400
    assert answer.json()["code"] == 3000


def test_poll_results_wait_until_set(zoom: FakeZoom, client: Client) -> None:
    uuid = zoom.start_meeting(MEETING, uuid="abc+d==")
    pending = client.call("GET", "/past_meetings/abc%2Bd%3D%3D/polls")
    assert pending.status_code == 404
    respondents = [
        {
            "name": "Ann",
            "email": "ann@example.com",
            "question_details": [{"question": "Do you agree?", "answer": "Yes"}],
        }
    ]
    zoom.set_past_polls(uuid, respondents)
    ready = client.call("GET", "/past_meetings/abc%2Bd%3D%3D/polls").json()
    assert ready["uuid"] == "abc+d=="
    assert ready["id"] == int(MEETING)
    assert ready["questions"] == respondents


def test_what_pending_poll_results_answer_is_configurable(monotonic: Monotonic) -> None:
    with FakeZoom(monotonic=monotonic, pending_polls_answer=(200, {"questions": []})) as zoom:
        zoom.add_meeting(MEETING)
        answer = Client(zoom).call("GET", f"/past_meetings/{MEETING}/polls")
    assert answer.status_code == 200
    assert answer.json()["questions"] == []


# -- people and pages -------------------------------------------------------------------------


def test_live_participants_come_in_pages(zoom: FakeZoom, client: Client) -> None:
    rows = [{"id": "", "user_name": f"P{i}", "participant_uuid": f"u{i}"} for i in range(5)]
    zoom.set_live_participants(MEETING, rows)
    path = f"/metrics/meetings/{MEETING}/participants"
    first = client.call("GET", path, type="live", page_size=2).json()
    assert first["participants"] == rows[:2]
    assert first["total_records"] == 5
    second = client.call(
        "GET", path, type="live", page_size=2, next_page_token=first["next_page_token"]
    ).json()
    third = client.call(
        "GET", path, type="live", page_size=2, next_page_token=second["next_page_token"]
    ).json()
    assert second["participants"] + third["participants"] == rows[2:]
    assert third["next_page_token"] == ""
    assert client.call("GET", path, next_page_token="nonsense").status_code == 400


def test_the_default_page_is_thirty_and_the_largest_three_hundred(
    zoom: FakeZoom, client: Client
) -> None:
    zoom.set_live_participants(MEETING, [{"id": str(i)} for i in range(400)])
    path = f"/metrics/meetings/{MEETING}/participants"
    assert len(client.call("GET", path).json()["participants"]) == 30
    assert len(client.call("GET", path, page_size=1000).json()["participants"]) == 300


@pytest.mark.parametrize(("plan", "message"), [("pro", "Business"), ("free", "Paid")])
def test_metrics_need_a_business_plan(monotonic: Monotonic, plan: str, message: str) -> None:
    with FakeZoom(plan=plan, monotonic=monotonic) as zoom:
        zoom.add_meeting(MEETING)
        answer = Client(zoom).call("GET", f"/metrics/meetings/{MEETING}/participants", type="live")
    assert answer.status_code == 400
    assert answer.json()["code"] == 200
    assert message in answer.json()["message"]


def test_registrants_are_listed_by_status(zoom: FakeZoom, client: Client) -> None:
    zoom.add_meeting("82222222222", registration=True)
    rows: list[dict[str, Any]] = [
        {"email": "a@example.com", "custom_questions": [{"title": "Role", "value": "Member"}]},
        {"email": "b@example.com", "status": "pending"},
    ]
    zoom.set_registrants("82222222222", rows)
    approved = client.call("GET", "/meetings/82222222222/registrants").json()
    pending = client.call("GET", "/meetings/82222222222/registrants", status="pending").json()
    assert approved["registrants"] == rows[:1]
    assert pending["registrants"] == rows[1:]
    assert client.call("GET", f"/meetings/{MEETING}/registrants").json()["code"] == 3000


def test_past_and_report_participants(zoom: FakeZoom, client: Client) -> None:
    uuid = zoom.start_meeting(MEETING, uuid="/abc==")
    past = [{"name": "Ann", "user_email": "ann@example.com"}]
    zoom.set_past_participants(MEETING, past)  # the meeting id names its latest instance
    encoded = "%252Fabc%253D%253D"
    assert (
        client.call("GET", f"/past_meetings/{encoded}/participants").json()["participants"] == past
    )
    assert (
        client.call("GET", f"/report/meetings/{encoded}/participants").json()["participants"]
        == past
    )
    report = [{"name": "Ann", "user_email": "ann@example.com", "bo_mtg_id": "room=="}]
    zoom.set_report_participants(uuid, report)
    assert (
        client.call("GET", f"/report/meetings/{MEETING}/participants").json()["participants"]
        == report
    )


def test_a_uuid_needing_double_encoding_is_not_found_when_encoded_once(
    zoom: FakeZoom, client: Client
) -> None:
    zoom.start_meeting(MEETING, uuid="/abc==")
    answer = client.call("GET", "/past_meetings/%2Fabc%3D%3D/participants")
    assert answer.status_code == 404
    assert answer.json()["code"] == 3001


def test_setting_rows_of_an_unknown_meeting_is_a_test_error(zoom: FakeZoom) -> None:
    with pytest.raises(KeyError):
        zoom.set_past_participants("nope", [])


# -- faults and records -----------------------------------------------------------------------


def test_faults_answer_the_next_matching_calls(zoom: FakeZoom, client: Client) -> None:
    zoom.fail("GET", "/meetings/", status=429, headers={"Retry-After": "3"}, times=2)
    answers = [client.call("GET", f"/meetings/{MEETING}") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"
    assert "per-second rate limit" in answers[0].json()["message"]


def test_faults_match_method_and_path(zoom: FakeZoom, client: Client) -> None:
    zoom.fail("PATCH", "/meetings/", status=500)
    zoom.fail("*", "/metrics/", status=502, raw_body=b"<html>Bad gateway</html>")
    assert client.call("GET", f"/meetings/{MEETING}").status_code == 200
    assert client.call("PATCH", f"/meetings/{MEETING}", {"topic": "t"}).status_code == 500
    answer = client.call("GET", f"/metrics/meetings/{MEETING}/participants")
    assert (answer.status_code, answer.content) == (502, b"<html>Bad gateway</html>")


def test_a_slow_answer_outlasts_a_short_timeout(zoom: FakeZoom, client: Client) -> None:
    zoom.slow("GET", "/meetings/", seconds=5)
    with pytest.raises(requests.Timeout):
        requests.get(
            f"{zoom.api_url}/meetings/{MEETING}",
            headers={"Authorization": f"Bearer {client.token}"},
            timeout=0.2,
        )
    assert client.call("GET", f"/meetings/{MEETING}").status_code == 200


def test_calls_are_recorded(zoom: FakeZoom, client: Client, monotonic: Monotonic) -> None:
    client.call("PATCH", f"/meetings/{MEETING}", {"topic": "t"}, foo="bar")
    (call,) = zoom.calls
    assert (call.method, call.path, call.query, call.body) == (
        "PATCH",
        f"/meetings/{MEETING}",
        {"foo": "bar"},
        {"topic": "t"},
    )
    assert (call.status, call.token, call.at) == (204, client.token, monotonic.now)


# -- webhooks ---------------------------------------------------------------------------------


def test_webhook_bodies_are_compact_and_signed_as_zoom_does() -> None:
    body = webhook_body("meeting.started", {"id": "1"}, event_ts_ms=1_700_000_000_123)
    assert body == (
        b'{"event":"meeting.started","event_ts":1700000000123,'
        b'"payload":{"account_id":"fake-zoom-account","object":{"id":"1"}}}'
    )
    clock = FixedClock(datetime.fromtimestamp(1_700_000_000, UTC))
    headers = signed_headers("s3cret", body, timestamp=1_700_000_000)
    assert ZoomWebhook("s3cret", clock).handle(body, headers) == (200, {"ok": True})
    assert ZoomWebhook("other", clock).handle(body, headers)[0] == 401


class Receiver:
    """An app endpoint that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server = StandInServer(("127.0.0.1", 0), self._dispatch)

    def _dispatch(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        self.received.append((headers, body))
        return json_answer({"ok": True})

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiving = Receiver()
    thread = threading.Thread(
        target=receiving.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield receiving
    receiving.server.shutdown()
    receiving.server.server_close()


def test_the_sender_posts_the_six_meeting_events(zoom: FakeZoom, receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.server.server_address[1]}/zoom/webhook"
    sender = ZoomWebhookSender(url, "s3cret", wall_clock=lambda: NOW.timestamp())
    zoom.start_meeting(MEETING, uuid="main==")
    meeting = zoom.meeting(MEETING)
    joined = datetime(2031, 11, 21, 18, 31, tzinfo=UTC)
    sender.meeting_started(meeting)
    sender.participant_joined(meeting, "pu1", "Ann", "ann@example.com", joined)
    sender.participant_joined_breakout_room(
        meeting, "room1==", "pu1", "Ann", "ann@example.com", joined
    )
    sender.participant_left_breakout_room(
        meeting, "room1==", "pu1", "Ann", "ann@example.com", joined
    )
    sender.participant_left(meeting, "pu1", "Ann", "ann@example.com", joined, leave_reason="left")
    sender.meeting_ended(meeting)
    events = receiver.events
    assert [e["event"] for e in events] == [
        "meeting.started",
        "meeting.participant_joined",
        "meeting.participant_joined_breakout_room",
        "meeting.participant_left_breakout_room",
        "meeting.participant_left",
        "meeting.ended",
    ]
    objects = [e["payload"]["object"] for e in events]
    assert all(o["id"] == MEETING and o["uuid"] == "main==" for o in objects)
    assert all(e["event_ts"] == int(NOW.timestamp() * 1000) for e in events)
    main, room = objects[1]["participant"], objects[2]["participant"]
    assert main["join_time"] == "2031-11-21T18:31:00Z"
    assert main["participant_uuid"] == room["participant_uuid"] == "pu1"
    assert room["parent_user_id"] == main["user_id"] != room["user_id"]
    assert objects[2]["breakout_room_uuid"] == "room1=="
    assert objects[4]["participant"]["leave_reason"] == "left"
    assert objects[5]["end_time"] == "2031-11-21T18:30:00Z"
    clock = FixedClock(NOW)
    for headers, body in receiver.received:
        assert ZoomWebhook("s3cret", clock).handle(body, headers)[0] == 200


def test_the_sender_answers_url_validation(receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.server.server_address[1]}/zoom/webhook"
    ZoomWebhookSender(url, "s3cret", wall_clock=lambda: NOW.timestamp()).url_validation("plain")
    headers, body = receiver.received[0]
    assert json.loads(body)["payload"] == {"plainToken": "plain"}
    status, answer = ZoomWebhook("s3cret", FixedClock(NOW)).handle(body, headers)
    assert status == 200
    assert answer["plainToken"] == "plain"
