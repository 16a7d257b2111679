"""FakeSlack driven by the real slack_sdk WebClient over HTTP."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from types import SimpleNamespace
from typing import Any
from urllib.error import HTTPError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.standin import BOT_USER_ID, FakeSlack, validate_blocks, validate_view
from tests.harness.fixtures import APP_TOKEN, BOT_TOKEN
from tests.harness.slack_limits import RATE_LIMITS

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}


def _button(text: str) -> dict[str, Any]:
    """An actions block holding one button with the given label."""
    return {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": "b"}
        ],
    }


def test_post_update_delete_keep_message_state(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """Posted messages get increasing ts and chat.update/delete change the store."""
    first = slack_web_client.chat_postMessage(channel="C1", text="one", blocks=[SECTION])
    second = slack_web_client.chat_postMessage(channel="C1", text="two")
    assert first["ok"]
    assert first["channel"] == "C1"
    assert float(first["ts"]) < float(second["ts"])
    assert first["message"]["blocks"] == [SECTION]
    assert first["message"]["user"] == BOT_USER_ID

    updated = slack_web_client.chat_update(channel="C1", ts=first["ts"], text="uno")
    assert updated["text"] == "uno"
    slack_web_client.chat_delete(channel="C1", ts=second["ts"])

    messages = fake_slack.messages("C1")
    assert [m["text"] for m in messages] == ["uno"]
    assert messages[0]["blocks"] == [SECTION]
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.token == BOT_TOKEN
    assert call.args["blocks"] == [SECTION]
    assert call.headers["content-type"].startswith("application/json")


def test_form_bodies_decode_json_fields(slack_web_client: WebClient, fake_slack: FakeSlack) -> None:
    """Form-encoded calls carrying blocks as a JSON string are decoded."""
    slack_web_client.api_call(
        "chat.postMessage", params={"channel": "C1", "text": "x", "blocks": json.dumps([SECTION])}
    )
    call = fake_slack.last("chat.postMessage")
    assert call.args["blocks"] == [SECTION]
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")


def test_missing_message_errors(slack_web_client: WebClient) -> None:
    """Unknown ts and empty messages fail like Slack."""
    with pytest.raises(SlackApiError) as info:
        slack_web_client.chat_update(channel="C1", ts="1.000001", text="x")
    assert info.value.response["error"] == "message_not_found"
    # slack_sdk itself warns about the missing text before sending.
    with pytest.raises(SlackApiError) as info, pytest.warns(UserWarning, match="text"):
        slack_web_client.chat_postMessage(channel="C1", text="")
    assert info.value.response["error"] == "no_text"


def test_ratelimit_is_retried_by_retry_handler(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 with Retry-After is retried by RateLimitErrorRetryHandler."""
    slept: list[float] = []
    # Record the handler's back-off instead of sleeping through it.
    monkeypatch.setattr(builtin_handlers, "time", SimpleNamespace(sleep=slept.append))
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    client = WebClient(
        token=BOT_TOKEN,
        base_url=fake_slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)

    response = client.chat_postMessage(channel="C1", text="hi")

    assert response["ok"]
    assert slept == [7.0]
    first, second = fake_slack.calls_to("chat.postMessage")
    assert first.failed
    assert first.injected
    assert first.status == 429
    assert first.response == {"ok": False, "error": "ratelimited"}
    assert not second.failed
    assert len(fake_slack.messages("C1")) == 1


def test_ratelimit_without_retry_handler_raises(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """Without a retry handler the 429 surfaces with its Retry-After header."""
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as info:
        slack_web_client.chat_postMessage(channel="C1", text="hi")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "3"


def test_injected_errors_are_consumed_in_order(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """Queued failures apply to successive calls, then calls succeed again."""
    fake_slack.fail_next("chat.postMessage", error="not_in_channel")
    fake_slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError) as info:
        slack_web_client.chat_postMessage(channel="C1", text="a")
    assert info.value.response["error"] == "not_in_channel"
    assert info.value.response.status_code == 200
    with pytest.raises(SlackApiError) as info:
        slack_web_client.chat_postMessage(channel="C1", text="b")
    assert info.value.response.status_code == 500
    assert slack_web_client.chat_postMessage(channel="C1", text="c")["ok"]
    assert [c.failed for c in fake_slack.calls_to("chat.postMessage")] == [True, True, False]


def test_invalid_auth_raises(fake_slack: FakeSlack) -> None:
    """Unknown tokens and app tokens on bot methods are rejected."""
    with pytest.raises(SlackApiError) as info:
        WebClient(token="nope", base_url=fake_slack.api_url).auth_test()
    assert info.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as info:
        WebClient(token=APP_TOKEN, base_url=fake_slack.api_url).chat_postMessage(
            channel="C1", text="x"
        )
    assert info.value.response["error"] == "not_allowed_token_type"
    restricted = FakeSlack(valid_tokens=["xoxb-only-this"], rate_limits=RATE_LIMITS)
    with restricted:
        with pytest.raises(SlackApiError):
            WebClient(token=BOT_TOKEN, base_url=restricted.api_url).auth_test()
        ok = WebClient(token="xoxb-only-this", base_url=restricted.api_url).auth_test()
        assert (ok["user_id"], ok["bot_id"], ok["team_id"]) == ("UBOT", "BBOT", "T0001")


def test_block_kit_violations_are_reported() -> None:
    """Too many blocks and a too-long button label are rejected and recorded."""
    with FakeSlack(rate_limits=RATE_LIMITS) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.api_url)
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel="C1", text="x", blocks=[SECTION] * 51)
        assert info.value.response["error"] == "invalid_blocks"
        assert "must be less than 51 items" in info.value.response["errors"][0]
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C1", text="x", blocks=[_button("x" * 76)])
        client.chat_postMessage(channel="C1", text="x", blocks=[_button("x" * 75)])
        assert len(fake.violations) == 2
        assert "76 characters" in fake.violations[1]
        assert fake.messages("C1")[0]["blocks"] == [_button("x" * 75)]
        with pytest.raises(AssertionError, match="violations"):
            fake.assert_no_violations()


@pytest.mark.parametrize(
    ("blocks", "fragment"),
    [
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "3001"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "151"),
        ([{"type": "actions", "elements": [_button("b")["elements"][0]] * 26}], "26 items"),
        ([{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}], "11 items"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "more than 0"),
        ([{"type": "no_such_block"}], "unsupported block type"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "acton_id": "a"}], "acton"),
        ([{"type": "image", "image_url": "https://x"}], "alt_text"),
    ],
)
def test_validate_blocks_limits(blocks: list[dict[str, Any]], fragment: str) -> None:
    """Each documented limit produces an error."""
    errors = validate_blocks(blocks)
    assert errors
    assert fragment in " ".join(errors)


def test_validate_view_limits() -> None:
    """Modal title length, block count and submit-with-inputs rules."""
    title = {"type": "plain_text", "text": "T"}
    assert validate_view({"type": "modal", "title": title, "blocks": [SECTION]}) == []
    long_title = {"type": "plain_text", "text": "x" * 25}
    assert validate_view({"type": "modal", "title": long_title, "blocks": [SECTION]})
    assert validate_view({"type": "modal", "title": title, "blocks": [SECTION] * 101})
    text_input = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Name"},
        "element": {"type": "plain_text_input", "action_id": "name"},
    }
    assert validate_view({"type": "modal", "title": title, "blocks": [text_input]})


def test_views_open_update_and_hash_conflict(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """views.open returns an id/hash; views.update with a stale hash conflicts."""
    view = {
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": "Title"},
        "blocks": [SECTION],
    }
    opened = slack_web_client.views_open(trigger_id="t.1", view=view)["view"]
    assert opened["id"].startswith("V")
    assert opened["state"] == {"values": {}}
    updated = slack_web_client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert updated["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError) as info:
        slack_web_client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert info.value.response["error"] == "hash_conflict"
    bad = dict(view, title={"type": "plain_text", "text": "x" * 30})
    with pytest.raises(SlackApiError) as info:
        slack_web_client.views_open(trigger_id="t.2", view=bad)
    assert info.value.response["error"] == "invalid_arguments"
    fake_slack.violations.clear()


def test_files_upload_v2_end_to_end(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """files_upload_v2 goes through getUploadURLExternal, the upload URL and completion."""
    result = slack_web_client.files_upload_v2(
        channel="C1", content=b"a,b\n1,2\n", filename="report.csv", title="Report"
    )
    assert result["file"]["title"] == "Report"
    file_id = result["file"]["id"]
    assert fake_slack.file_content(file_id) == b"a,b\n1,2\n"
    assert [c.method for c in fake_slack.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    shared = fake_slack.messages("C1")[0]
    assert shared["files"][0]["id"] == file_id


def test_directory_methods(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """users.info, conversations.info and paginated conversations.members."""
    fake_slack.add_user("U1", "ada", real_name="Ada Lovelace", display_name="ada")
    fake_slack.add_channel("C9", "listening", members=["U1", "U2", "U3"])
    user = slack_web_client.users_info(user="U1")["user"]
    assert user["real_name"] == "Ada Lovelace"
    assert user["profile"]["display_name"] == "ada"
    assert slack_web_client.conversations_info(channel="C9")["channel"]["name"] == "listening"
    members = [
        m
        for page in slack_web_client.conversations_members(channel="C9", limit=2)
        for m in page["members"]
    ]
    assert members == ["U1", "U2", "U3"]


def test_response_url_records_and_replaces(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """response_url posts are recorded and replace_original edits the linked message."""
    posted = slack_web_client.chat_postMessage(channel="C1", text="vote")
    url = fake_slack.response_url("vote", channel="C1", message_ts=posted["ts"])
    response = WebhookClient(url).send(text="thanks", replace_original=True)
    assert (response.status_code, response.body) == (200, "ok")
    call = fake_slack.last("response_url")
    assert call.args["text"] == "thanks"
    assert call.path == "/response/vote"
    assert fake_slack.messages("C1")[0]["text"] == "thanks"
    WebhookClient(url).send(text="just you")
    assert fake_slack.ephemerals("C1")[0]["text"] == "just you"


def test_wait_for_wakes_on_calls_and_times_out(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    """wait_for returns once a background thread made the call, and lists calls on timeout."""
    worker = threading.Thread(
        target=lambda: slack_web_client.chat_postMessage(channel="C2", text="later")
    )
    worker.start()
    calls = fake_slack.wait_for("chat.postMessage", predicate=lambda c: c.args["channel"] == "C2")
    worker.join()
    assert calls[0].args["text"] == "later"
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        fake_slack.wait_for("views.open", timeout=0.05)
    fake_slack.reset()
    assert fake_slack.calls == []
    assert fake_slack.messages("C2") == []


def test_apps_connections_open_needs_url_and_app_token(fake_slack: FakeSlack) -> None:
    """apps.connections.open answers the configured URL for app tokens only."""
    app_client = WebClient(base_url=fake_slack.api_url)
    with pytest.raises(SlackApiError):
        app_client.apps_connections_open(app_token=APP_TOKEN)
    fake_slack.socket_mode_url = "ws://127.0.0.1:1/link"
    assert app_client.apps_connections_open(app_token=APP_TOKEN)["url"] == "ws://127.0.0.1:1/link"
    with pytest.raises(SlackApiError) as info:
        app_client.apps_connections_open(app_token=BOT_TOKEN)
    assert info.value.response["error"] == "not_allowed_token_type"


def test_other_methods_and_body_styles(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """Ephemeral, scheduled, threads, history, push/publish, multipart and GET calls."""
    eph = slack_web_client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    assert eph["message_ts"]
    assert fake_slack.ephemerals("C1")[0]["ephemeral_user"] == "U1"
    scheduled = slack_web_client.chat_scheduleMessage(
        channel="C1", text="later", post_at=1900000000
    )
    assert scheduled["scheduled_message_id"].startswith("Q")
    parent = slack_web_client.chat_postMessage(channel="C1", text="parent")
    slack_web_client.chat_postMessage(channel="C1", text="reply", thread_ts=parent["ts"])
    history = slack_web_client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in history] == ["parent"]
    replies = slack_web_client.conversations_replies(channel="C1", ts=parent["ts"])["messages"]
    assert [m["text"] for m in replies] == ["parent", "reply"]
    dm = slack_web_client.chat_postMessage(channel="U5", text="hi")
    assert dm["channel"] == "D5"

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": [SECTION]}
    assert slack_web_client.views_push(trigger_id="t.3", view=modal)["view"]["id"]
    home = {"type": "home", "blocks": [SECTION]}
    assert slack_web_client.views_publish(user_id="U1", view=home)["view"]["type"] == "home"

    slack_web_client.api_call("files.upload", files={"file": b"raw"}, data={"channels": "C1"})
    assert fake_slack.last("files.upload").args == {"file": b"raw", "channels": "C1"}
    slack_web_client.api_call("conversations.info", http_verb="GET", params={"channel": "C4"})
    assert fake_slack.last("conversations.info").args == {"channel": "C4"}


def test_response_url_use_limit_and_failures(fake_slack: FakeSlack) -> None:
    """A response_url works five times, and failures can be injected."""
    url = fake_slack.response_url("once")
    fake_slack.fail_next("response_url", status=404, error="expired_url")
    assert WebhookClient(url).send(text="x").status_code == 404
    for _ in range(5):
        assert WebhookClient(url).send(text="x").status_code == 200
    assert WebhookClient(url).send(text="x").status_code == 404
    assert "more than 5 times" in fake_slack.violations[0]
    fake_slack.violations.clear()


def test_upload_failure_injection(fake_slack: FakeSlack, slack_web_client: WebClient) -> None:
    """A failing upload URL surfaces as urllib's HTTPError, not a SlackApiError."""
    fake_slack.fail_next("upload", status=500)
    with pytest.raises(HTTPError):
        slack_web_client.files_upload_v2(channel="C1", content=b"x", filename="x.txt")


def _call_over(connection: http.client.HTTPConnection, method: str, **args: Any) -> Any:
    """One Web API call on an open HTTP connection; returns the decoded answer."""
    connection.request(
        "POST",
        f"/api/{method}",
        body=json.dumps(args),
        headers={"Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": "application/json"},
    )
    answer = connection.getresponse()
    assert answer.version == 11  # HTTP/1.1
    return json.loads(answer.read())


def test_connections_stay_open_between_calls_and_close_when_stopped() -> None:
    """Like Slack, one HTTP/1.1 connection carries many calls; stopping drops it."""
    with FakeSlack(rate_limits=RATE_LIMITS) as fake:
        connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
        for number in range(3):
            assert _call_over(connection, "chat.postMessage", channel="C1", text=f"hi {number}")[
                "ok"
            ]
        assert fake.connections_accepted == 1
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _call_over(connection, "auth.test")
    connection.close()


def test_a_held_answer_takes_effect_at_once_and_comes_back_when_released(
    fake_slack: FakeSlack, slack_web_client: WebClient
) -> None:
    release = fake_slack.hold_next("chat.postMessage")
    answers: list[Any] = []
    caller = threading.Thread(
        target=lambda: answers.append(slack_web_client.chat_postMessage(channel="C1", text="slow"))
    )
    caller.start()
    fake_slack.wait_for("chat.postMessage")
    assert [m["text"] for m in fake_slack.messages("C1")] == ["slow"]  # people see it already
    assert answers == []  # the caller is still waiting
    release.set()
    caller.join(timeout=5)
    assert answers[0]["ts"] == fake_slack.messages("C1")[0]["ts"]
    assert slack_web_client.chat_postMessage(channel="C1", text="fast")["ok"]  # one call only


def test_stopping_lets_held_answers_go() -> None:
    """A held call must not hang past stop(), whether its answer or the hang-up comes first."""
    with FakeSlack(rate_limits=RATE_LIMITS) as fake:
        client = WebClient(token=BOT_TOKEN, base_url=fake.api_url, timeout=20)
        held = fake.hold_next("chat.postMessage")  # never released by the test
        waiting = fake.hold_next("chat.postMessage")  # for a call that never comes
        ended = threading.Event()

        def call() -> None:
            with contextlib.suppress(Exception):
                client.chat_postMessage(channel="C1", text="x")
            ended.set()

        threading.Thread(target=call, daemon=True).start()
        fake.wait_for("chat.postMessage")
    assert held.is_set()  # the server's thread is not left waiting
    assert waiting.is_set()
    assert ended.wait(5)  # far sooner than the hold's own 30 s or the client's timeout
