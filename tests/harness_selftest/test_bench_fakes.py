"""The benches time every call the fake Slack answers: their fakes must see the successful ones
too (a method's call is stored under the lock of the state change it made, not through
`_record`), or a bench waits for a post it was already sent."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

ROOT = Path(__file__).resolve().parents[2]


def _bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["meeting", "polls"])
def test_a_benchs_fake_times_successful_and_refused_calls(name: str) -> None:
    with _bench(name).TimedFakeSlack() as slack:
        client = WebClient(token="xoxb-bench", base_url=slack.api_url)
        client.chat_postMessage(channel="C1", text="hello")
        slack.fail_next("chat.update", status=500)
        with pytest.raises(SlackApiError):
            client.chat_update(channel="C1", ts="1.0", text="edited")
        timed = [(call.method, call.status) for _, call in slack.arrivals]
    assert timed == [("chat.postMessage", 200), ("chat.update", 500)]
