"""How the outbox sends each kind of effect: `Kind` (send, pace, budget, batch read), the
`Progress` a send sees, and how Slack's errors are told apart ("not now" or "never").

`bot.slack.sender` drains the outbox with these; each feature registers its kinds
(`bot.slack.polls`, `rooms`, `sessions`, `summaries`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from storage import outbox as store
from storage.db import Database
from storage.outbox import Pending

logger = logging.getLogger(__name__)

REPLACED = "replaced by a newer one"  # why a row made needless by a later one was not sent
# Slack's answers that mean "not now": everything else from Slack is a refusal for good.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


# Slack's answers to chat.update for a message it no longer lets us edit (deleted, too old).
UNEDITABLE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


NOT_LOADED = object()  # `Progress.loaded` when the kind has no `load`, or it failed


class SendLater(Exception):
    """Raised by a kind's sender when Slack said "not now" outside the Web API (a response_url
    answering 429 or 5xx): the row is tried again with the usual backoff."""


class Progress:
    """One send's context: the steps of a multi-step effect already done (saved so a retry does
    not redo them), and what the kind's `load` read for the row just before."""

    def __init__(self, db: Database, row: Pending, loaded: Any = NOT_LOADED) -> None:
        self._db = db
        self._row = row
        self.values: dict[str, Any] = dict(row.progress)
        self.loaded = loaded

    def get(self, step: str) -> Any:
        """What a finished step recorded (None if it has not run)."""
        return self.values.get(step)

    def done(self, step: str, value: Any = True) -> None:
        """Record that `step` is done (committed at once)."""
        self.values[step] = value
        with self._db.transaction() as db:
            store.save_progress(db, row_id=self._row.id, progress=self.values)


Send = Callable[[Pending, Progress], bool]
Refused = Callable[[Pending, SlackApiError], None]
Load = Callable[[Sequence[Pending]], Sequence[Any]]


@dataclass
class Pace:
    """Sends of one kind at most once per `interval` per target, and `spacing` apart overall.

    Used for live tallies: Slack allows chat.update about 50 times a minute per workspace.
    """

    interval: float
    spacing: float = 0.0
    _last: dict[str, float] = field(default_factory=dict)
    _free_at: float = float("-inf")

    def wait(self, target: str, now: float) -> float:
        """Seconds until a send to `target` may start (0 when it may start now)."""
        last = self._last.get(target)
        start = max(self._free_at, last + self.interval if last is not None else now)
        return max(0.0, start - now)

    def finished(self, target: str, now: float, *, sent: bool) -> None:
        """Note the end of a send (spacing counts from the end, however long it took)."""
        self._last[target] = now
        if sent:
            self._free_at = now + self.spacing


@dataclass
class Kind:
    """How to send one kind of effect.

    Args:
        send: renders from the database and posts; returns whether anything went to Slack
            (False: nothing to do any more, e.g. a tally for a poll that has closed).
        refused: what to do when Slack refuses it for good (undo a start, tell someone).
        pace: spacing for kinds where only the latest matters (coalesced: marked sent when
            taken, so a change that comes while it is being sent queues a new one).
        forget: delete the row once done instead of keeping it (no trace of who was told).
        method: the Web API method its first call spends (the dispatcher takes a row only when
            that budget has room, so urgent rows are not stuck behind a full bucket).
        channel: for chat.postMessage, the channel a row posts in (its budget is per channel).
        load: reads, in one go, what the sends of several rows will render, just before they
            go (one value per row, in order; each send finds its own in `progress.loaded`).
            For kinds sent by the hundred, such as vote confirmations.
        replaced_by: whether a row queued after this one on its target makes it needless
            (rendered at send time, both would say the same): it is then given up, not sent.
    """

    send: Send
    refused: Refused | None = None
    pace: Pace | None = None
    forget: bool = False
    method: str | None = None
    channel: Callable[[Pending], str | None] | None = None
    load: Load | None = None
    replaced_by: Callable[[Pending, Pending], bool] | None = None


def is_transient(error: SlackApiError) -> bool:
    """Whether Slack said "not now" (the sender tries again) rather than "never"."""
    status = getattr(error.response, "status_code", 200)
    code = str(error.response.get("error") or "")
    return status == 429 or status >= 500 or code in TRANSIENT_ERRORS


def is_uneditable(error: SlackApiError) -> bool:
    """Whether Slack refused an edit for good because the message cannot be edited any more."""
    return not is_transient(error) and str(error.response.get("error") or "") in UNEDITABLE


def edit_in_place(
    client: WebClient,
    *,
    channel: str,
    ts: str,
    text: str,
    blocks: Sequence[dict[str, Any]] | None = None,
) -> bool:
    """Edit a posted message; False (not retried) when Slack no longer lets us edit it
    (deleted, too old): it stays as it was. Other errors are the sender's to retry or give up."""
    try:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
    except SlackApiError as error:
        if not is_uneditable(error):
            raise
        logger.warning("message %s in %s can no longer be edited", ts, channel)
        return False
    return True


NEVER = Kind(send=lambda row, progress: False)  # stands in for a kind nobody registered
