"""The one sender: drains the outbox to Slack, in order per message, retrying until done.

Every post that follows from a committed change is an outbox row (see `bot.outbox`). One
dispatcher thread picks the rows that are due, most urgent first, and hands each to a worker;
rows with the same target (one message, one thread, one person) go out one at a time in the
order they were queued. A kind's sender renders the message from the database at send time.

At most once: a row is marked sent in the dispatcher's next transaction after Slack answered,
a few milliseconds later. Only a row whose Slack call had succeeded when the process died in
that window is sent again after a restart. On stop, the sender keeps sending for a few seconds,
then leaves what is left for the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError

from bot.clock import Clock
from bot.slack.budgets import Budgets
from storage import outbox as store
from storage.db import Database
from storage.outbox import Pending

logger = logging.getLogger(__name__)

WORKERS = 8
LOOKAHEAD = 8  # rows read per free worker
# Commits wake the sender; under a burst of votes they come every few milliseconds, and one
# round a few milliseconds later serves them all.
MIN_ROUND = 0.005
IDLE_POLL = 0.5  # seconds: rows written by another process are found at least this often
STOP_GRACE = 5.0
INFLIGHT_GRACE = 16.0  # a send already started has its HTTP timeout (15 s) to finish
# Waits after a failed try: Slack's outages are usually short, so try soon, then less often.
BACKOFF = tuple(
    timedelta(seconds=s) for s in (1, 2, 5, 10, 30, 60, 120, 300)
)  # and every 5 minutes after that: public posts are never given up
# Done rows are kept this long: every effect's key is made once, by one committed change, and
# Slack's redeliveries of the request behind it stop within minutes.
KEEP_DONE = timedelta(days=2)
MAX_TRIES_ON_BUGS = 8  # an error that is not Slack's (a bug) is given up after this many tries
# Slack's answers that mean "not now": everything else from Slack is a refusal for good.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class Progress:
    """The steps of a multi-step effect already done; saved so a retry does not redo them."""

    def __init__(self, db: Database, row: Pending) -> None:
        self._db = db
        self._row = row
        self.values: dict[str, Any] = dict(row.progress)

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
    """

    send: Send
    refused: Refused | None = None
    pace: Pace | None = None
    forget: bool = False
    method: str | None = None
    channel: Callable[[Pending], str | None] | None = None


@dataclass
class _Done:
    row: Pending
    sent: bool = False
    retry_at: datetime | None = None
    failed: str | None = None
    error: str = ""


class OutboxSender:
    """Owns every thread that posts to Slack: one dispatcher and a pool of workers."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        workers: int = WORKERS,
        monotonic: Callable[[], float] = time.monotonic,
        budgets: Budgets | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.budgets = budgets or Budgets()
        self.kinds: dict[str, Kind] = {}
        self._workers = workers
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._woken = False
        self._inflight: set[int] = set()
        self._busy: set[str] = set()
        self._done: list[_Done] = []
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_by = float("inf")
        self._round = 0
        self._idle_round = -1
        db.on_queued(self.wake)

    # -- set-up and lifecycle ------------------------------------------------------------------

    def register(self, kind: str, how: Kind) -> None:
        """Say how to send effects of `kind`."""
        self.kinds[kind] = how

    def start(self) -> None:
        """Start sending (what is already queued goes first)."""
        if self._thread is not None:
            return
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="outbox")
        self._thread = threading.Thread(target=self._run, name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Send what can be sent within `grace` seconds, then stop; the rest waits for a start."""
        thread = self._thread
        if thread is None:
            return
        with self._cond:
            self._stopping = True
            self._stop_by = self._monotonic() + grace
            self._cond.notify_all()
        thread.join(timeout=grace + INFLIGHT_GRACE + 1)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None
        self._thread = None

    def send_now(self, what: str, call: Callable[[], object]) -> None:
        """Send something that follows from no committed change (a refusal, a private view of
        results) on the sender's workers; a failure is logged, nothing is retried."""
        pool = self._pool
        if pool is None or self._stopping:
            logger.warning("outbox: not running, so %s was not sent", what)
            return

        def attempt() -> None:
            try:
                call()
            except Exception:
                logger.exception("could not send %s", what)

        pool.submit(attempt)

    def wake(self) -> None:
        """Look for due rows now (called after every commit that queued some)."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def prune(self) -> int:
        """Forget rows done more than KEEP_DONE ago (housekeeping; keys cannot return by then)."""
        with self.db.transaction() as db:
            return store.prune_sent(db, before=self.clock.now() - KEEP_DONE)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until a round that began after this call found nothing due and nothing in
        flight (tests and benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout  # real time, whatever clock paces the sends
        with self._cond:
            started = self._round
            self._woken = True
            self._cond.notify_all()
            while self._idle_round <= started:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=min(left, 0.05))
        return True

    # -- the dispatcher ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                wait = self._dispatch()
            except Exception:
                logger.exception("outbox dispatcher: a round failed; trying again shortly")
                wait = IDLE_POLL
            with self._cond:
                if self._stopping and (
                    self._monotonic() >= self._stop_by or (wait is None and not self._inflight)
                ):
                    break
                if not self._woken and not self._done:
                    self._cond.wait(timeout=IDLE_POLL if wait is None else min(wait, IDLE_POLL))
                self._woken = False
            time.sleep(MIN_ROUND)  # commits that arrive together are served by one round
        self._wait_for_inflight()

    def _wait_for_inflight(self) -> None:
        """Let the sends already started finish, and record them."""
        deadline = self._monotonic() + INFLIGHT_GRACE
        while True:
            self._record(self._take_done())
            with self._cond:
                if not self._inflight or self._monotonic() >= deadline:
                    return
                if not self._done:
                    self._cond.wait(timeout=0.1)

    def _take_done(self) -> list[_Done]:
        with self._cond:
            done, self._done = self._done, []
        return done

    def _dispatch(self) -> float | None:
        """One round: record finished sends, start due ones; returns seconds to the next."""
        with self._cond:
            self._round += 1
            this_round = self._round
        self._record(self._take_done())
        free = self._workers - len(self._inflight)
        if free <= 0:
            return None  # a finished send wakes the next round
        now = self.clock.now()
        with self.db.read() as db:
            # Enough to fill the free workers, past rows waiting for a retry or their pace.
            heads = store.heads(db, limit=len(self._inflight) + LOOKAHEAD * free)
        mono = self._monotonic()
        next_wait: float | None = None
        taken: list[Pending] = []
        expired: list[_Done] = []
        paid: dict[int, tuple[str, str | None]] = {}
        waiting = False
        for row in heads:
            if len(taken) >= free:
                break  # no queue in the pool: what is taken starts now
            if row.id in self._inflight or row.target in self._busy:
                continue
            how = self.kinds.get(row.kind)
            if how is None:
                expired.append(_Done(row, failed=f"no sender for {row.kind}"))
                continue
            if row.expires_at is not None and now > row.expires_at:
                expired.append(_Done(row, failed="expired"))
                continue
            if row.due_at > now:
                # Waiting for a retry (or a delay): its target waits with it, in order.
                wait = (row.due_at - now).total_seconds()
                next_wait = wait if next_wait is None else min(next_wait, wait)
                continue
            waiting = True
            wait = how.pace.wait(row.target, mono) if how.pace is not None else 0.0
            if wait == 0 and how.method is not None:
                channel = how.channel(row) if how.channel is not None else None
                wait = self.budgets.available(how.method, channel)
                if wait == 0 and not self.budgets.take(how.method, channel, timeout=0):
                    wait = 0.01  # another caller took the last token just now
                if wait == 0:
                    paid[row.id] = (how.method, channel)
            if wait > 0:
                # Paced, or Slack's budget for it is spent: the most urgent rows get the next
                # tokens, and nothing waits on a worker.
                next_wait = wait if next_wait is None else min(next_wait, wait)
                continue
            if how.pace is not None:
                # Reserve the slot at once, so two paced rows never start together.
                how.pace.finished(row.target, mono + 1e-3, sent=True)
            taken.append(row)
        if expired:
            self._record(expired)
        coalesced = [row.id for row in taken if self.kinds[row.kind].pace is not None]
        if coalesced:
            # Only the latest tally matters: once taken it is done, and a change that comes
            # while it is being sent queues a new one.
            with self.db.transaction() as db:
                store.mark_sent(db, ids=coalesced, now=now)
        with self._cond:
            for row in taken:
                self._inflight.add(row.id)
                self._busy.add(row.target)
        for row in taken:
            assert self._pool is not None
            self._pool.submit(self._send, row, paid.get(row.id))
        with self._cond:
            if not waiting and not expired and not self._inflight and not self._done:
                self._idle_round = this_round
                self._cond.notify_all()
        return next_wait

    def _send(self, row: Pending, paid: tuple[str, str | None] | None) -> None:
        how = self.kinds[row.kind]
        done = _Done(row)
        try:
            with self.budgets.priority(row.priority), self.budgets.prepaid(*(paid or ("", None))):
                done.sent = how.send(row, Progress(self.db, row))
        except SlackApiError as error:
            self._failed(row, how, error, done)
        except (URLError, OSError, TimeoutError) as error:
            done.retry_at = self._backoff(row)
            done.error = f"{type(error).__name__}: {error}"
        except Exception as error:
            logger.exception("outbox: %s (%s) failed", row.key, row.kind)
            if row.attempts + 1 >= MAX_TRIES_ON_BUGS:
                done.failed = f"gave up: {type(error).__name__}"
            else:
                done.retry_at = self._backoff(row)
                done.error = f"{type(error).__name__}: {error}"
        finally:
            if how.pace is not None:
                how.pace.finished(row.target, self._monotonic(), sent=done.sent)
            with self._cond:
                self._done.append(done)
                self._cond.notify_all()

    def _failed(self, row: Pending, how: Kind, error: SlackApiError, done: _Done) -> None:
        code = str(error.response.get("error") or "")
        status = getattr(error.response, "status_code", 200)
        if status == 429 or code == "ratelimited":
            after = _retry_after(error.response.headers)
            done.retry_at = self.clock.now() + (after or self._delay(row))
            done.error = "ratelimited"
        elif is_transient(error):
            done.retry_at = self._backoff(row)
            done.error = code or f"HTTP {status}"
        else:
            logger.warning("outbox: Slack refused %s (%s): %s", row.key, row.kind, code)
            done.failed = code or f"HTTP {status}"
            if how.refused is not None:
                try:
                    how.refused(row, error)
                except Exception:
                    logger.exception("outbox: undoing %s after Slack refused it failed", row.key)

    def _delay(self, row: Pending) -> timedelta:
        return BACKOFF[min(row.attempts, len(BACKOFF) - 1)]

    def _backoff(self, row: Pending) -> datetime:
        return self.clock.now() + self._delay(row)

    def _record(self, done: list[_Done]) -> None:
        """Write what became of finished sends, in one transaction."""
        if not done:
            return
        now = self.clock.now()
        with self.db.transaction() as db:
            sent = [d.row.id for d in done if d.failed is None and d.retry_at is None]
            forget = [d.row.id for d in done if self.kinds.get(d.row.kind, _NEVER).forget]
            store.mark_sent(db, ids=[i for i in sent if i not in forget], now=now)
            for d in done:
                if d.failed is not None and d.row.id not in forget:
                    store.mark_failed(db, row_id=d.row.id, now=now, reason=d.failed)
                elif d.retry_at is not None:
                    logger.info(
                        "outbox: %s not sent (%s); next try %s", d.row.key, d.error, d.retry_at
                    )
                    store.retry_later(db, row_id=d.row.id, due_at=d.retry_at, error=d.error)
            finished = [d.row.id for d in done if d.retry_at is None]
            store.delete_rows(db, ids=[i for i in forget if i in finished])
        with self._cond:
            for d in done:
                self._inflight.discard(d.row.id)
                self._busy.discard(d.row.target)
            self._woken = True


def is_transient(error: SlackApiError) -> bool:
    """Whether Slack said "not now" (the sender tries again) rather than "never"."""
    status = getattr(error.response, "status_code", 200)
    code = str(error.response.get("error") or "")
    return status == 429 or status >= 500 or code in TRANSIENT_ERRORS


def _retry_after(headers: Mapping[str, Any] | None) -> timedelta | None:
    """Slack's Retry-After (seconds), if it sent one."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return timedelta(seconds=max(0, int(str(raw).strip())))
            except ValueError:
                return None
    return None


_NEVER = Kind(send=lambda row, progress: False)
