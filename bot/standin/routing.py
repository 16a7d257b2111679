"""From HTTP request to answer: Web API calls, uploads and response_url posts.

Routing parses a request the way Slack's servers do (query, form, JSON or multipart bodies;
tokens in the form or the Authorization header), applies the injected failures, holds and
rate limits, lets the method answer, and records the call.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.standin.blockkit import validate_blocks
from bot.standin.limits import RESPONSE_URL_USES, retry_after_seconds
from bot.standin.methods import WebApiMethods
from bot.standin.server import (
    Answer,
    decode_json_fields,
    json_answer,
    parse_multipart,
    text_answer,
)
from bot.standin.state import Call, Failure

HOLD_TIMEOUT = 30.0  # a held answer is sent anyway after this long
RESPONSE_URL_MAX_USES = RESPONSE_URL_USES


class Routing(WebApiMethods):
    """Serves the stand-in's HTTP endpoints: /api/<method>, /upload/<id>, /response/<name>."""

    def _dispatch(self, verb: str, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        """Route one HTTP request to the API, upload or response_url handlers."""
        parts = urlsplit(raw_path)
        path = parts.path
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            with self._cond:  # the first call to arrive is the one held
                holds = self._holds.get(method)
                hold = holds.popleft() if holds else None
                if hold is not None:
                    self._held.add(hold)
                slow = self._slow.get(method, 0.0)
            answer = self._api(method, path, parts.query, headers, body)
            if slow:
                time.sleep(slow)  # a slow network: the call is done, its answer takes a while
            if hold is not None:
                hold.wait(HOLD_TIMEOUT)  # done, but the answer is slow to come back
                with self._cond:
                    self._held.discard(hold)
            return answer
        if path.startswith("/upload/") and verb == "POST":
            return self._upload(path[len("/upload/") :], path, headers, body)
        if path.startswith("/response/") and verb == "POST":
            return self._response(path[len("/response/") :], path, headers, body)
        return text_answer("not found", 404)

    def _take_failure(self, method: str) -> Failure | None:
        """Pop the next injected failure for method, if any."""
        with self._cond:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _failure_answer(self, failure: Failure) -> tuple[dict[str, Any], Answer]:
        """Build the JSON body and answer for an injected Web API failure."""
        if failure.error is not None:
            error = failure.error
        elif failure.status == 429:
            error = "ratelimited"
        elif failure.status >= 500:
            error = "internal_error"
        else:
            error = "fatal_error"
        data = {"ok": False, "error": error}
        extra: dict[str, str] = {}
        if failure.status == 429 or failure.retry_after is not None:
            # Slack always sends Retry-After with 429s; 1s is its smallest value.
            extra["Retry-After"] = str(1 if failure.retry_after is None else failure.retry_after)
        return data, json_answer(data, failure.status, **extra)

    def _api(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        """Handle /api/<method>."""
        args: dict[str, Any] = {
            k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()
        }
        content_type = headers.get("content-type", "")
        if body:
            if content_type.startswith("application/json"):
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, dict):
                    bad_json = {"ok": False, "error": "invalid_json"}
                    self._record(Call(method, {}, headers, None, True, False, 200, bad_json, path))
                    return json_answer(bad_json)
                args.update(parsed)
            elif content_type.startswith("multipart/form-data"):
                args.update(parse_multipart(body, content_type))
            else:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                args.update({k: v[-1] for k, v in form.items()})
        decode_json_fields(args)
        token = args.pop("token", None)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[len("bearer ") :].strip()

        failure = self._take_failure(method)
        if failure is not None:
            injected, answer = self._failure_answer(failure)
            self._record(
                Call(method, args, headers, token, True, True, answer.status, injected, path)
            )
            return answer

        data = self._check_token(method, token)
        if data is not None:
            self._record(
                Call(method, args, headers, token, not data.get("ok"), False, 200, data, path)
            )
            return json_answer(data)
        with self._cond:
            wait = self._admit(method, args, token)
            if wait:
                answered = None
            else:
                data = self._method(method, args, token)
                failed = not data.get("ok")
                call = Call(method, args, headers, token, failed, False, 200, data, path)
                answered = call, self._store(call)  # listed in the same hold as its change
        if answered is None:
            return self._rate_limited_answer(method, args, headers, token, path, wait)
        self._deliver(*answered)
        return json_answer(call.response)

    def _admit(self, method: str, args: dict[str, Any], token: str) -> float:
        """Spend one call of the token's budget: 0.0 if admitted, else the seconds to wait."""
        if self._limiter is None:
            return 0.0
        channel = self._channel_for(args) if method == "chat.postMessage" else None
        return self._limiter.admit(method, token, channel)

    def _rate_limited_answer(
        self,
        method: str,
        args: dict[str, Any],
        headers: dict[str, str],
        token: str,
        path: str,
        wait: float,
    ) -> Answer:
        """Record and build Slack's answer to a call over its limit (HTTP 429, Retry-After)."""
        data = {"ok": False, "error": "ratelimited"}
        call = Call(method, args, headers, token, True, False, 429, data, path, rate_limited=True)
        self._record(call)
        return json_answer(data, 429, **{"Retry-After": str(retry_after_seconds(wait))})

    def _response_url_expired(self, link: dict[str, Any]) -> bool:
        """Whether a response_url's window (30 minutes / scale from its issue) is over."""
        now = self._now()
        if now is None:
            return False  # unlimited: response_urls never expire
        if link.get("issued") is None:
            link["issued"] = now  # a URL the test never registered: issued on first use
            return False
        assert self._limiter is not None
        return bool(now - link["issued"] >= self._limiter.limits.response_url_window)

    def _check_token(self, method: str, token: str | None) -> dict[str, Any] | None:
        """Return an error body when the token is missing, invalid or of the wrong type."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if self.valid_tokens is not None:
            valid = token in self.valid_tokens
        else:
            valid = token.startswith(("xoxb-", "xapp-"))
        if not valid:
            return {"ok": False, "error": "invalid_auth"}
        # App-level tokens only work for apps.* methods; bot tokens cannot open sockets.
        is_app_token = token.startswith("xapp-")
        if is_app_token and not method.startswith("apps."):
            return {"ok": False, "error": "not_allowed_token_type"}
        if method == "apps.connections.open" and not is_app_token:
            return {"ok": False, "error": "not_allowed_token_type"}
        return None

    # -- non-API endpoints -------------------------------------------------------

    def _upload(self, file_id: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """POST /upload/<file_id>: accept the raw bytes like files.slack.com does."""
        args = {"file_id": file_id, "size": len(body)}
        failure = self._take_failure("upload")
        if failure is not None:
            data = {"ok": False, "error": failure.error or "upload_failed"}
            self._record(
                Call("upload", args, headers, None, True, True, failure.status, data, path)
            )
            return text_answer(str(data["error"]), failure.status)
        with self._cond:
            record = self._files.get(file_id)
            if record is not None:
                record["content"] = body
        if record is None:
            data = {"ok": False, "error": "file_not_found"}
            self._record(Call("upload", args, headers, None, True, False, 404, data, path))
            return text_answer("file_not_found", 404)
        self._record(Call("upload", args, headers, None, False, False, 200, {"ok": True}, path))
        return text_answer(f"OK - {len(body)}")

    def _response(self, name: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """POST /response/<name>: a response_url, answering "ok" like hooks.slack.com."""
        args: dict[str, Any]
        try:
            if headers.get("content-type", "").startswith("application/json"):
                args = json.loads(body or b"{}")
            else:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                args = json.loads(form.get("payload", ["{}"])[-1])
        except ValueError:
            args = {"_raw": body.decode("utf-8", "replace")}
        if not isinstance(args, dict):
            args = {"_raw": args}
        decode_json_fields(args)

        def record(status: int, data: dict[str, Any], injected: bool = False) -> None:
            failed = not data.get("ok")
            self._record(
                Call("response_url", args, headers, None, failed, injected, status, data, path)
            )

        failure = self._take_failure("response_url")
        if failure is not None:
            error = failure.error or "internal_error"
            record(failure.status, {"ok": False, "error": error}, True)
            return text_answer(error, failure.status)
        with self._cond:
            status, data, answer = self._use_response_url(name, args)
        # Recorded once the lock is released: subscribers must not be called with it held.
        record(status, data)
        return answer

    def _use_response_url(
        self, name: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], Answer]:
        """Spend one use of a response_url and apply the post (with self._cond held).

        Returns:
            The status and data to record, and the answer to send.
        """
        link = self._response_urls.setdefault(
            name, {"channel": None, "message_ts": None, "uses": 0, "issued": self._now()}
        )
        if self._response_url_expired(link):
            return 404, {"ok": False, "error": "expired_url"}, text_answer("expired_url", 404)
        link["uses"] += 1
        if link["uses"] > RESPONSE_URL_MAX_USES:
            self.violations.append(f"response_url {name}: used more than 5 times")
            return 404, {"ok": False, "error": "used_url"}, text_answer("used_url", 404)
        if "blocks" in args:
            errors = validate_blocks(args["blocks"])
            if errors:
                data = self._violation(f"response_url {name}", errors, "invalid_blocks")
                return 400, data, text_answer("invalid_blocks", 400)
        self._apply_response(link, args)
        return 200, {"ok": True}, text_answer("ok")

    def _apply_response(self, link: dict[str, Any], args: dict[str, Any]) -> None:
        """Reflect a response_url post in the message store (replace/delete/in_channel)."""
        channel = link["channel"]
        original = self._find_message(channel, link["message_ts"])
        if args.get("delete_original") and original is not None:
            self._messages[channel].remove(original)
        elif args.get("replace_original") and original is not None:
            for key in ("text", "blocks", "attachments"):
                if key in args:
                    original[key] = args[key]
        elif channel and args.get("response_type") == "in_channel":
            self._messages[channel].append(self._bot_message(args, self._next_ts()))
        elif channel:
            message = self._bot_message(args, self._next_ts())
            message["channel"] = channel
            self._ephemerals.append(message)
