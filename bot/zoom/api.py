"""The Zoom API client: Server-to-Server OAuth token, retries and the rate budget, over zoomus.

zoomus 1.2.1 (docs/zoom-api-notes.md §1) makes the HTTP calls: its `BaseComponent` adds the
bearer token from a config dict it reads at every call, so swapping `config["token"]` hands it a
new token. We never build `ZoomClient`, whose constructor fetches a token with no timeout; we
fetch tokens ourselves, lazily, with a timeout. zoomus has no retries, no 429 handling and no
rate limits: those are here. tests/bot/zoom/test_zoomus_guard.py pins what we rely on.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from urllib3.exceptions import NewConnectionError
from zoomus.components.base import BaseComponent

from bot.zoom.budget import PLAN_RATES, Budget, Category, advised_wait
from bot.zoom.errors import (
    ZoomError,
    ZoomForbidden,
    ZoomNotFound,
    ZoomRejected,
    ZoomStopped,
    ZoomUnavailable,
    zoom_error,
)

# Re-exported: callers build meeting paths next to their calls.
from bot.zoom.meetings import encode_meeting as encode_meeting
from bot.zoom.meetings import meeting_path as meeting_path

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "Category",
    "ZoomApi",
    "ZoomError",
    "ZoomForbidden",
    "ZoomNotFound",
    "ZoomRejected",
    "ZoomStopped",
    "ZoomUnavailable",
    "encode_meeting",
    "meeting_path",
    "zoom_api_from_settings",
]

logger = logging.getLogger(__name__)

TOKEN_MARGIN_SECONDS = 60.0  # renew this long before expiry, as Zoom's own SDK (Rivet) does
CREDENTIALS_REFUSED = (
    "Zoom refused the credentials: check ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID, ZOOM_CLIENT_SECRET"
)
TOKEN_REFUSED = (
    "Zoom refused a freshly issued access token: check ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET "
    "belong to the Server-to-Server OAuth app of ZOOM_ACCOUNT_ID, and that the app is activated"
)


class ZoomApi:
    """A thread-safe Zoom API client for one account; construction makes no network call.

    Args:
        timeout: seconds for one HTTP answer (token endpoint included); fractions are kept.
        plan: free, pro or business: the account's per-second rate limits.
        rate_scale: multiplies those rates (tests run a faster fake; 1 in production).
        monotonic: the clock of the budget, backoff and token expiry.
        sleep: how the budget and backoff wait (default: a wait that `interrupt` ends).
        max_attempts: tries per call for 429, 5xx, timeouts and connection errors.
        max_wait: most seconds one call may spend in backoff; a rate limit that resets later
            (a daily one) raises ZoomUnavailable at once.
        wall_clock: epoch seconds, to read Retry-After dates. jitter: a number in [0, 1).
        budget: share one with another client of the same account (default: its own).

    Zoom's health: `on_answer()` is called after every call Zoom answered (even with a refusal),
    `on_unavailable(error)` after every call that raised ZoomUnavailable; set them after
    construction (bot.bootstrap points them at ZoomHealth).
    """

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_url: str,
        oauth_url: str,
        timeout: float = 10.0,
        plan: str = "pro",
        rate_scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = 4,
        max_wait: float = 60.0,
        wall_clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        budget: Budget | None = None,
    ) -> None:
        if plan not in PLAN_RATES:
            raise ValueError(f"unknown Zoom plan {plan!r}: use one of {', '.join(PLAN_RATES)}")
        if timeout <= 0 or max_attempts < 1:
            raise ValueError("timeout must be positive and max_attempts at least 1")
        self.account_id = account_id
        self._client_id = client_id
        self._client_secret = client_secret
        self.api_url = api_url.rstrip("/")
        self.oauth_url = oauth_url
        self.timeout = float(timeout)
        self._monotonic = monotonic
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._jitter = jitter
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._stopping = threading.Event()
        self.on_answer: Callable[[], None] | None = None
        self.on_unavailable: Callable[[str], None] | None = None
        self._budget = budget or Budget(
            plan=plan, rate_scale=rate_scale, monotonic=monotonic, sleep=self._budget_wait
        )
        self._token_lock = threading.Lock()
        self._expires_at = 0.0
        self.token_requests = 0  # how many tokens this client has fetched
        # zoomus reads config["token"] at every call; the dict is ours, so we swap the token.
        self._config: dict[str, Any] = {"version": 2, "token": None}
        self._zoomus = BaseComponent(base_uri=self.api_url, config=self._config)
        # zoomus's timeout setter int-casts (2.5 -> 2, 0.5 -> 0, which requests refuses); the
        # attribute behind it goes to requests as it is, so set that (test_zoomus_guard pins it).
        self._zoomus._timeout = self.timeout

    # -- the calls ---------------------------------------------------------

    def get(
        self, path: str, *, category: Category, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """GET a Zoom API path (relative to api_url) and return its JSON object."""
        return self._call("GET", path, category=category, params=params)

    def post(self, path: str, *, category: Category, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a JSON body and return Zoom's JSON answer."""
        return self._call("POST", path, category=category, body=body)

    def patch(self, path: str, *, category: Category, body: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH a JSON body; Zoom's 204 gives {}."""
        return self._call("PATCH", path, category=category, body=body)

    def delete(self, path: str, *, category: Category) -> dict[str, Any]:
        """DELETE a Zoom resource; Zoom's 204 gives {}."""
        return self._call("DELETE", path, category=category)

    def pages(
        self,
        path: str,
        *,
        category: Category,
        key: str,
        params: Mapping[str, Any] | None = None,
        page_size: int = 300,
    ) -> Iterator[dict[str, Any]]:
        """Yield the rows under `key` of every page, following next_page_token."""
        query = {**(params or {}), "page_size": page_size}
        seen: set[str] = set()
        while True:
            page = self.get(path, category=category, params=query)
            yield from page.get(key) or []
            token = page.get("next_page_token")
            if not token or token in seen:  # a token handed back twice would loop forever
                return
            seen.add(token)
            query["next_page_token"] = token

    @property
    def calls(self) -> dict[str, int]:
        """API calls made per category (each retry counts: Zoom counts it too)."""
        return self._budget.calls

    def budget_used(self) -> dict[str, float]:
        """The busiest second so far as a share of the per-second budget, per category."""
        return self._budget.used()

    # -- one call with its retries -----------------------------------------

    def _call(
        self,
        verb: str,
        path: str,
        *,
        category: Category,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        # Zoom's health is recorded here, where the calls happen: a task that makes no call
        # says nothing about Zoom.
        try:
            answer = self._attempts(verb, path, category=category, params=params, body=body)
        except ZoomStopped:
            raise  # the bot is stopping: that says nothing about Zoom either
        except ZoomUnavailable as error:
            self._observe(self.on_unavailable, str(error))
            raise
        except ZoomError:
            self._observe(self.on_answer)  # Zoom answered: it is up, it just said no
            raise
        self._observe(self.on_answer)
        return answer

    def _observe(self, observer: Callable[..., None] | None, *args: str) -> None:
        if observer is None:
            return
        try:
            observer(*args)
        except Exception:  # a failing observer must not turn Zoom's answer into an error
            logger.exception("zoom: the health observer failed")

    def _attempts(
        self,
        verb: str,
        path: str,
        *,
        category: Category,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        waited = 0.0
        attempt = 0
        refreshed = False
        # A POST creates something: once it may have reached Zoom, sending it again could create
        # it twice, so only answers that say Zoom did nothing (429, 401) are retried.
        once = verb == "POST"
        while True:
            attempt += 1
            self._check_stopping()
            self._ensure_token()
            self._budget.spend(category)
            self._check_stopping()
            delay: float | None = None
            try:
                response = self._send(verb, path, params, body)
            except requests.Timeout as exc:
                problem: ZoomError = ZoomUnavailable(
                    f"Zoom did not answer {verb} {path} within {self.timeout:g}s"
                )
                if once and not _never_sent(exc):
                    raise _maybe_done(problem) from None
            except requests.RequestException as exc:
                problem = ZoomUnavailable(f"could not reach Zoom for {verb} {path}: {exc}")
                if once and not _never_sent(exc):
                    raise _maybe_done(problem) from None
            else:
                status = response.status_code
                if status < 300:
                    return _json_object(response, verb, path)
                answer = _json_or_none(response)
                if status == 401:
                    if refreshed:
                        error = zoom_error(status, answer)
                        raise ZoomForbidden(TOKEN_REFUSED, status=status, code=error.code)
                    refreshed = True
                    attempt -= 1  # a token refresh is not a backoff attempt
                    self._renew_token(_bearer_sent(response))
                    continue
                problem = zoom_error(
                    status, answer, fallback=f"Zoom answered HTTP {status} to {verb} {path}"
                )
                if status != 429 and status < 500:
                    raise problem
                if once and status != 429:
                    raise _maybe_done(problem)
                delay = self._advised_delay(response, answer, category, problem)
            if attempt >= self.max_attempts:
                raise ZoomUnavailable(
                    f"{problem.message} (gave up after {attempt} attempts)",
                    status=problem.status,
                    code=problem.code,
                    retry_after=delay,
                )
            if delay is None:
                delay = 2 ** (attempt - 1) * (0.75 + 0.5 * self._jitter())
            if waited + delay > self.max_wait:
                raise ZoomUnavailable(
                    f"{problem.message} (gave up: retrying would wait over {self.max_wait:g}s)",
                    status=problem.status,
                    code=problem.code,
                    retry_after=delay,
                )
            logger.warning("zoom %s %s: %s; retrying in %.1fs", verb, path, problem, delay)
            self._wait(delay)
            waited += delay

    # -- waiting, and stopping --------------------------------------------------

    def interrupt(self) -> None:
        """Stop waiting: pending and later backoff or budget waits end, and their calls raise
        ZoomStopped (the bot is stopping)."""
        self._stopping.set()

    def resume(self) -> None:
        """Allow calls again after `interrupt`."""
        self._stopping.clear()

    def _wait(self, seconds: float) -> None:
        """Sleep (the injected sleep, or until `interrupt`), then raise if interrupted."""
        if self._sleep is None:
            self._stopping.wait(seconds)
        else:
            self._sleep(seconds)
        self._check_stopping()

    def _budget_wait(self, seconds: float) -> None:
        if self._sleep is None:
            self._stopping.wait(seconds)
        else:
            self._sleep(seconds)

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise ZoomStopped("the Zoom client is stopping")

    def _send(
        self,
        verb: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
    ) -> requests.Response:
        query = dict(params) if params is not None else None
        data = json.dumps(body) if body is not None else None
        component = self._zoomus
        if verb == "GET":
            return component.get_request(path, params=query)
        send = {
            "POST": component.post_request,
            "PATCH": component.patch_request,
            "DELETE": component.delete_request,
        }[verb]
        return send(path, params=query, data=data)

    def _advised_delay(
        self, response: requests.Response, answer: Any, category: Category, problem: ZoomError
    ) -> float | None:
        """The wait Zoom's headers ask for (None: none asked); raise if it is beyond max_wait."""
        now = self._wall_clock()
        delay = advised_wait(response.headers, now)
        if delay is None and _is_daily_limit(response, answer):
            # A daily 429 may come without a time (zoom-api-notes §4): Zoom resets at 00:00 UTC.
            today = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0)
            delay = (today + timedelta(days=1)).timestamp() - now
        if delay is not None and delay > self.max_wait:
            when = datetime.fromtimestamp(now + delay, UTC)
            raise ZoomUnavailable(
                f"Zoom's {category} rate limit for this account is used up until "
                f"{when:%Y-%m-%d %H:%M} UTC (in {_duration(delay)}); try again then "
                f"({problem.message})",
                status=problem.status,
                code=problem.code,
                retry_after=delay,
            )
        return delay

    # -- the token -----------------------------------------------------------

    def _ensure_token(self) -> None:
        with self._token_lock:
            if self._config["token"] is None or (
                self._expires_at - self._monotonic() <= TOKEN_MARGIN_SECONDS
            ):
                self._fetch_token()

    def _renew_token(self, rejected: str | None) -> None:
        """Zoom said 401 to `rejected`: fetch another, unless a thread already has."""
        with self._token_lock:
            if rejected is None or self._config["token"] == rejected:
                self._fetch_token()

    def _fetch_token(self) -> None:
        """Fetch a Server-to-Server OAuth token (the caller holds the token lock)."""
        asked_at = self._monotonic()
        try:
            response = requests.post(
                self.oauth_url,
                data={"grant_type": "account_credentials", "account_id": self.account_id},
                auth=(self._client_id, self._client_secret),
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise ZoomUnavailable(
                f"Zoom's token endpoint did not answer within {self.timeout:g}s"
            ) from None
        except requests.RequestException as exc:
            raise ZoomUnavailable(f"could not reach Zoom's token endpoint: {exc}") from None
        self.token_requests += 1
        answer = _json_or_none(response)
        status = response.status_code
        if 400 <= status < 500 and status != 429:
            reason = (
                answer.get("reason") or answer.get("error") if isinstance(answer, dict) else None
            )
            said = f" (Zoom said: {reason})" if reason else ""
            raise ZoomForbidden(CREDENTIALS_REFUSED + said, status=status)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        expires_in = answer.get("expires_in", 3600) if isinstance(answer, dict) else None
        if status >= 300 or not isinstance(token, str) or not token:
            raise ZoomUnavailable(
                f"Zoom's token endpoint answered HTTP {status} without an access token",
                status=status,
            )
        if not isinstance(expires_in, int | float) or isinstance(expires_in, bool):
            expires_in = 3600  # Zoom's tokens last an hour
        self._config["token"] = token
        self._expires_at = asked_at + float(expires_in)


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_object(response: requests.Response, verb: str, path: str) -> dict[str, Any]:
    if response.status_code == 204 or not response.content.strip():
        return {}
    answer = _json_or_none(response)
    if not isinstance(answer, dict):
        raise ZoomUnavailable(
            f"Zoom answered {verb} {path} with a body that is not a JSON object",
            status=response.status_code,
        )
    return answer


def _maybe_done(problem: ZoomError) -> ZoomUnavailable:
    """A POST that may have reached Zoom: not retried, so that nothing is created twice."""
    return ZoomUnavailable(
        f"{problem.message}; the POST may have reached Zoom, so it was not sent again "
        "(check whether it took effect before retrying)",
        status=problem.status,
        code=problem.code,
        maybe_done=True,
    )


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached Zoom (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError)


def _bearer_sent(response: requests.Response) -> str | None:
    """The token a request carried: the one Zoom refused, whatever another thread set since."""
    header = str(response.request.headers.get("Authorization", "")) if response.request else ""
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None


def _is_daily_limit(response: requests.Response, answer: Any) -> bool:
    if response.status_code != 429:
        return False
    kind = response.headers.get("X-RateLimit-Type", "")
    message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
    return "daily" in kind.lower() or "daily rate limit" in message.lower()


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{max(1, minutes)} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def zoom_api_from_settings(settings: Settings) -> ZoomApi | None:
    """The account's client from ZOOM_* settings; None when Zoom is not configured."""
    if not settings.zoom_enabled:
        return None
    return ZoomApi(
        account_id=settings.ZOOM_ACCOUNT_ID or "",
        client_id=settings.ZOOM_CLIENT_ID or "",
        client_secret=settings.ZOOM_CLIENT_SECRET or "",
        api_url=settings.ZOOM_API_URL,
        oauth_url=settings.ZOOM_OAUTH_URL,
        timeout=settings.ZOOM_TIMEOUT_SECONDS,
        plan=settings.ZOOM_PLAN,
    )
