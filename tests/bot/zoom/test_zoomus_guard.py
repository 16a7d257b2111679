"""What bot/zoom/api.py relies on in zoomus 1.2.1: if an upgrade changes any of it, this fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
import requests
from zoomus.components.base import BaseComponent

from bot.standin.zoom import FakeZoom

MEETING = "81234567890"


@pytest.fixture
def zoom() -> Iterator[FakeZoom]:
    with FakeZoom() as fake:
        fake.add_meeting(MEETING)
        yield fake


def fetch_token(zoom: FakeZoom) -> str:
    answer = requests.post(
        zoom.oauth_url,
        data={"grant_type": "account_credentials", "account_id": zoom.account_id},
        auth=(zoom.client_id, zoom.client_secret),
        timeout=5,
    )
    return str(answer.json()["access_token"])


def test_the_installed_zoomus_is_the_pinned_one() -> None:
    assert version("zoomus") == "1.2.1"


def test_a_v2_component_adds_the_bearer_when_no_headers_are_given(zoom: FakeZoom) -> None:
    token = fetch_token(zoom)
    component = BaseComponent(base_uri=zoom.api_url, config={"version": 2, "token": token})
    answer = component.get_request(f"/meetings/{MEETING}", params={"a": "1"})
    assert isinstance(answer, requests.Response)  # a raw Response, no error handling of its own
    assert answer.status_code == 200
    assert zoom.calls[-1].token == token
    assert zoom.calls[-1].query == {"a": "1"}


def test_given_headers_replace_the_bearer(zoom: FakeZoom) -> None:
    component = BaseComponent(base_uri=zoom.api_url, config={"version": 2, "token": "T"})
    answer = component.get_request(f"/meetings/{MEETING}", headers={"X-Other": "1"})
    assert answer.status_code == 401
    assert zoom.calls[-1].token is None


@pytest.mark.parametrize("verb", ["post", "patch", "delete"])
def test_writes_send_a_string_body_as_json_with_the_bearer(zoom: FakeZoom, verb: str) -> None:
    token = fetch_token(zoom)
    component = BaseComponent(base_uri=zoom.api_url, config={"version": 2, "token": token})
    send = getattr(component, f"{verb}_request")
    send(f"/meetings/{MEETING}", data=json.dumps({"topic": "New"}))
    assert zoom.calls[-1].method == verb.upper()
    assert zoom.calls[-1].token == token
    assert zoom.calls[-1].body == {"topic": "New"}


def test_the_component_reads_the_token_from_the_shared_config_at_every_call(
    zoom: FakeZoom,
) -> None:
    first, second = fetch_token(zoom), fetch_token(zoom)
    config = {"version": 2, "token": first}
    component = BaseComponent(base_uri=zoom.api_url, config=config)
    assert component.config is config
    component.get_request(f"/meetings/{MEETING}")
    config["token"] = second
    component.get_request(f"/meetings/{MEETING}")
    assert [call.token for call in zoom.calls] == [first, second]


def test_url_for_joins_the_base_and_the_path() -> None:
    component = BaseComponent(base_uri="http://zoom.test/v2/", config={"version": 2})
    assert component.url_for("meetings/1/") == "http://zoom.test/v2/meetings/1"
    assert component.url_for("/meetings/%252Fabc%253D%253D") == (
        "http://zoom.test/v2/meetings/%252Fabc%253D%253D"
    )


def test_the_timeout_setter_int_casts_but_the_attribute_behind_it_is_used(
    zoom: FakeZoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    component = BaseComponent(base_uri=zoom.api_url, config={"version": 2}, timeout=2.5)
    assert component.timeout == 2  # why the client sets _timeout instead
    component._timeout = 0.3
    assert component.timeout == 0.3
    timeouts: list[object] = []
    real_get = requests.get

    def get(*args: Any, **kwargs: Any) -> requests.Response:
        timeouts.append(kwargs.get("timeout"))
        return real_get(*args, **kwargs)

    monkeypatch.setattr(requests, "get", get)  # zoomus calls requests.get(...)
    zoom.slow("GET", "/meetings/", seconds=10)  # ends when the fake stops
    with pytest.raises(requests.Timeout):
        component.get_request(f"/meetings/{MEETING}")
    assert timeouts == [0.3]  # the fraction reached requests, not 2 or 15 s
