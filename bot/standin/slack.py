"""FakeSlack: a stand-in for Slack's Web API, served over real HTTP on 127.0.0.1.

It ships with the product, where `listening-bot rehearse` runs the real app against it, and it
serves the tests. Besides two dozen Web API methods (with Block Kit validation and Slack's rate
limits) it serves file uploads and response_urls, and it lets its user inject failures, hold
or slow answers, watch calls as they happen (`subscribe`) and query what Slack would show.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from bot.standin.routing import Routing
from bot.standin.server import StandInServer
from bot.standin.state import Call, Failure


class FakeSlack(Routing):
    """Fake Slack Web API, upload and response_url server on 127.0.0.1.

    FakeSlack(valid_tokens=None, *, socket_mode_url=None, rate_limits=None): tokens accepted
    (default: any xoxb-/xapp- token), the URL apps.connections.open hands out, and the rate
    limits to enforce (default RateLimits(): Slack's own pace; UNLIMITED for none).
    """

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return self
        server = StandInServer(("127.0.0.1", 0), self._dispatch)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._release_holds()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSlack:
        """Start the server for a with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server at the end of a with-block."""
        self.stop()

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections clients have opened so far."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.accepted

    def response_url(
        self,
        name: str,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        user: str | None = None,
    ) -> str:
        """Give a response_url; linking channel/message_ts lets replace_original edit it, and
        `user` (whose request it came with) lets `private_replies` find what it was told."""
        with self._cond:
            self._response_urls[name] = {
                "channel": channel,
                "message_ts": message_ts,
                "user": user,
                "uses": 0,
                "issued": self._now(),
            }
        return f"{self.base_url}/response/{name}"

    # -- configuration ------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls to method fail (429/5xx/HTTP-200 errors, in FIFO order)."""
        with self._cond:
            for _ in range(times):
                self._failures[method].append(Failure(status, error, retry_after))

    def hold_next(self, method: str) -> threading.Event:
        """Delay the answer to the next call to method until the returned event is set.

        The call takes effect at once (a posted message is in the channel, as people see it)
        but the caller waits for its answer, as over a slow network.
        """
        release = threading.Event()
        with self._cond:
            self._holds[method].append(release)
        return release

    def slow(self, method: str, seconds: float) -> None:
        """Make every call to method take effect at once but answer `seconds` later (0: fast)."""
        with self._cond:
            if seconds > 0:
                self._slow[method] = seconds
            else:
                self._slow.pop(method, None)

    def clear_failures(self, method: str | None = None) -> None:
        """Drop the failures still queued for method (or for every method): Slack recovers."""
        with self._cond:
            if method is None:
                self._failures.clear()
            else:
                self._failures.pop(method, None)

    # -- queries ---------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """A snapshot of every call so far."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one method (including failed and injected ones), oldest first."""
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def rate_limited(self, method: str | None = None) -> int:
        """How many calls (to method, or to any) the fake's rate limits answered with 429.

        Failures injected with fail_next(..., status=429) are not counted (they are `injected`).
        """
        with self._cond:
            return sum(
                1 for c in self._calls if c.rate_limited and (method is None or c.method == method)
            )

    def last(self, method: str) -> Call:
        """The latest call to method; AssertionError when there is none."""
        calls = self.calls_to(method)
        if not calls:
            raise AssertionError(f"no {method} call; saw {self._summary()}")
        return calls[-1]

    def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until count matching calls arrived; AssertionError listing calls on timeout."""

        def matching() -> list[Call]:
            return [
                c for c in self._calls if c.method == method and (predicate is None or predicate(c))
            ]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                return matching()
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} x {method} "
                f"(got {len(matching())}); calls seen: {self._summary()}"
            )

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Current state of messages in a channel (after updates/deletes), oldest first."""
        with self._cond:
            return copy.deepcopy(self._messages.get(channel, []))

    def recipient(self, call: Call) -> str | None:
        """Who a private reply went to: chat.postEphemeral's user, or the person a response_url
        was given with (see `response_url`)."""
        if call.method == "chat.postEphemeral":
            return str(call.args.get("user") or "") or None
        if call.method == "response_url":
            with self._cond:
                link = self._response_urls.get(call.path.removeprefix("/response/"), {})
            return link.get("user")
        return None

    def private_replies(self, user: str | None = None) -> list[Call]:
        """What people were told privately and it reached them, in order: chat.postEphemeral
        calls, and ephemeral posts to response_urls given with `user` (see `response_url`)."""
        with self._cond:
            owners = {
                f"/response/{name}": link.get("user") for name, link in self._response_urls.items()
            }
            calls = list(self._calls)
        replies: list[Call] = []
        for call in calls:
            if call.failed:
                continue
            if call.method == "chat.postEphemeral":
                to = call.args.get("user")
            elif call.method == "response_url" and call.args.get("response_type") == "ephemeral":
                to = owners.get(call.path)
            else:
                continue
            if user is None or to == user:
                replies.append(call)
        return replies

    def wait_for_private_replies(
        self, user: str | None = None, *, count: int = 1, timeout: float = 5.0
    ) -> list[Call]:
        """Wait until `user` (anyone, if None) has been told `count` things privately."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.private_replies(user)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count} private replies to "
                        f"{user or 'anyone'} (got {len(self.private_replies(user))})"
                    )
                self._cond.wait(timeout=min(left, 0.05))
        return self.private_replies(user)

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages sent (chat.postEphemeral and ephemeral response_url posts)."""
        with self._cond:
            return [
                copy.deepcopy(m)
                for m in self._ephemerals
                if channel is None or m.get("channel") == channel
            ]

    def view(self, view_id: str) -> dict[str, Any]:
        """Current state of an opened/updated view."""
        with self._cond:
            return copy.deepcopy(self._views[view_id])

    def file_content(self, file_id: str) -> bytes:
        """Bytes uploaded for a file id."""
        with self._cond:
            content: bytes = self._files[file_id].get("content", b"")
            return content

    def assert_no_violations(self) -> None:
        """Fail the test if any Block Kit / API contract violation was seen."""
        with self._cond:
            if self.violations:
                raise AssertionError(
                    "Slack contract violations:\n" + "\n".join(f"- {v}" for v in self.violations)
                )

    def reset(self) -> None:
        """Forget calls, violations, pending failures, stored state and used rate-limit budgets.

        Users and channels are kept.
        """
        with self._cond:
            if self._limiter is not None:
                self._limiter.clear()
            self._calls.clear()
            self.violations.clear()
            self._failures.clear()
            self._release_holds()
            self._messages.clear()
            self._ephemerals.clear()
            self._views.clear()
            self._files.clear()
            self._response_urls.clear()

    def _summary(self) -> str:
        """Readable list of calls for assertion messages."""
        with self._cond:
            lines = [
                f"\n  {c.method}{' (failed)' if c.failed else ''} {json.dumps(c.args)[:300]}"
                for c in self._calls
            ]
        return "".join(lines) or " none"
