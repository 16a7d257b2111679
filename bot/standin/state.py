"""What every part of the stand-in shares: the stored workspace, the lock, the recorded calls.

FakeSlack is built in layers, each a module of its own: StandInState (this module) holds the
data and records calls; WebApiMethods (methods.py) answers Web API methods; Routing
(routing.py) turns HTTP requests into those answers; FakeSlack (slack.py) adds the lifecycle,
the controls and the queries that tests and the rehearsal use.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.standin.limits import RateLimiter, RateLimits
from bot.standin.server import StandInServer

logger = logging.getLogger(__name__)


@dataclass
class Call:
    """One request the fake received, with the answer it gave."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    failed: bool = False
    injected: bool = False
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    rate_limited: bool = False  # answered 429 by the fake's own rate limits (not injected)


@dataclass
class Failure:
    """An answer queued by fail_next: the status, error and Retry-After to give."""

    status: int
    error: str | None
    retry_after: int | None


class StandInState:
    """The stand-in's state, its lock, and the recording (and watching) of calls."""

    def __init__(
        self,
        valid_tokens: Iterable[str] | None = None,
        *,
        socket_mode_url: str | None = None,
        rate_limits: RateLimits | None = None,
    ) -> None:
        """Configure accepted tokens (default: any xoxb-/xapp- token) and the Socket Mode URL.

        rate_limits: Slack's rate limits to enforce; omitted (None): Slack's own pace,
        RateLimits() (scale 1.0); UNLIMITED for none.
        """
        self.valid_tokens: set[str] | None = None if valid_tokens is None else set(valid_tokens)
        self.socket_mode_url = socket_mode_url
        if rate_limits is None:
            rate_limits = RateLimits()
        self.rate_limits = rate_limits
        self._limiter = RateLimiter(rate_limits) if rate_limits.enabled else None
        self.violations: list[str] = []
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._holds: dict[str, deque[threading.Event]] = defaultdict(deque)
        self._held: set[threading.Event] = set()  # answers being held right now
        self._slow: dict[str, float] = {}  # seconds each answer of a method takes
        self._messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._ts_counter = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: StandInServer | None = None
        self._thread: threading.Thread | None = None
        self._subscribers: dict[int, Callable[[Call], None]] = {}
        self._subscriber_ids = itertools.count(1)
        # Deliveries to subscribers take turns in recording order (see _record).
        self._next_turn = 0
        self._turn = 0

    # -- where it listens ------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Root URL of the server, without trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """WebClient base_url form: http://127.0.0.1:PORT/api/ (trailing slash required)."""
        return f"{self.base_url}/api/"

    # -- recording and watching calls -------------------------------------------

    def subscribe(self, callback: Callable[[Call], None]) -> Callable[[], None]:
        """Call `callback` with every call recorded from now on; returns the unsubscribe.

        Each call reaches each subscriber once, in the order the calls were recorded, on the
        thread that served the call and outside the fake's lock (a callback may query the
        fake). The answer waits for the callbacks, so keep them quick, and never make a call
        to this fake from one (its delivery would wait for this one: hand it to a thread). A
        callback that raises is logged and the answer goes out as usual.
        """
        with self._cond:
            key = next(self._subscriber_ids)
            self._subscribers[key] = callback

        def unsubscribe() -> None:
            with self._cond:
                self._subscribers.pop(key, None)

        return unsubscribe

    def _record(self, call: Call) -> None:
        """Store a call, wake wait_for() waiters, then hand it to the subscribers.

        Never call this with the lock held: subscribers are called after it is released.
        """
        self._deliver(call, self._store(call))

    def _store(self, call: Call) -> tuple[int, tuple[Callable[[Call], None], ...]] | None:
        """Append a call and wake wait_for() waiters; the caller may hold the lock.

        Storing under the same hold as the state change it records means no reader sees a
        message edited by a call that is not listed yet. Returns the delivery turn, if anyone
        subscribes: pass it to _deliver() once the lock is released.
        """
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
            if not self._subscribers:
                return None
            # Calls are recorded on many server threads; a ticket keeps their deliveries in
            # recording order, each still on its own thread (waiting releases the lock).
            ticket = self._next_turn
            self._next_turn += 1
            return ticket, tuple(self._subscribers.values())

    def _deliver(
        self, call: Call, turn: tuple[int, tuple[Callable[[Call], None], ...]] | None
    ) -> None:
        """Hand a stored call to the subscribers, in recording order (never with the lock held)."""
        if turn is None:
            return
        ticket, subscribers = turn
        with self._cond:
            self._cond.wait_for(lambda: self._turn == ticket)
        try:
            for callback in subscribers:
                try:
                    callback(call)
                except Exception:  # a watcher's bug must not break Slack's answer
                    logger.exception("a FakeSlack subscriber failed on %s", call.method)
        finally:
            with self._cond:
                self._turn += 1
                self._cond.notify_all()

    # -- shared helpers ----------------------------------------------------------

    def _now(self) -> float | None:
        """The rate limits' clock, or None when no limits are enforced."""
        return None if self._limiter is None else self._limiter.limits.clock()

    def _release_holds(self) -> None:
        """Let every held answer go (stopping or resetting must not leave callers hanging)."""
        with self._cond:
            pending = [event for queue in self._holds.values() for event in queue]
            pending += self._held
            self._holds.clear()
        for event in pending:
            event.set()
