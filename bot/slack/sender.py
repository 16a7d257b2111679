"""The one sender: drains the outbox to Slack, in order per message, retrying until done.

Every post that follows from a committed change is an outbox row (see `bot.outbox`). One
dispatcher thread picks the rows that are due, most urgent first, and hands each to a worker;
rows with the same target (one message, one thread, one person) go out one at a time in the
order they were queued. A kind's sender renders the message from the database at send time.

The dispatcher works from its own picture of the unsent rows (`bot.slack.queue`): a commit in
this process hands over the rows it queued as it commits, and the outbox is read again at start,
after a commit that retired rows, and every RESYNC seconds (rows queued by another process).

At most once: a row is marked sent in the dispatcher's next transaction after Slack answered,
a few milliseconds later. Only a row whose Slack call had succeeded when the process died in
that window is sent again after a restart. On stop, the sender keeps sending for a few seconds,
then leaves what is left for the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.clock import Clock
from bot.slack.budgets import Budgets
from bot.slack.client import retry_after_seconds
from bot.slack.kinds import NEVER, NOT_LOADED, REPLACED, Kind, Progress, SendLater, is_transient
from bot.slack.queue import PendingRows
from storage import outbox as store
from storage.db import Database
from storage.outbox import Pending

logger = logging.getLogger(__name__)

WORKERS = 8
# Rows handed to the pool per worker and not yet recorded: a round takes enough to keep every
# worker busy until the next one (rounds are up to BUSY_ROUND apart; a send is often faster).
PER_WORKER = 8
LOOKAHEAD = 16  # rows looked at past those that can be taken (waiting for a retry or a pace)
# Commits wake the sender; rounds start at most QUIET_ROUND apart, and BUSY_ROUND apart once a
# round finds more than BUSY_ROWS to do: under a burst of votes, commits come every few
# milliseconds, and one round serves them all (and records in one transaction what the last
# one sent).
QUIET_ROUND = 0.005
BUSY_ROUND = 0.05
BUSY_ROWS = 8
IDLE_POLL = 0.5  # seconds between rounds when nothing wakes the dispatcher
RESYNC = 0.5  # seconds: rows written by another process are found at least this often
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


@dataclass
class _Done:
    row: Pending
    progress: Mapping[str, Any] = field(default_factory=dict)
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
        fence: Callable[[Session], int | None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.budgets = budgets or Budgets()
        # Several replicas: in the transaction that claims a round's rows, this replica's
        # leader epoch if it still leads, else None (and the round sends nothing).
        self.fence = fence
        self.kinds: dict[str, Kind] = {}
        self._workers = workers
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._woken = False
        self._inflight: set[int] = set()
        self._busy: set[str] = set()
        self._done: list[_Done] = []
        self._pool: ThreadPoolExecutor | None = None
        self._direct: ThreadPoolExecutor | None = None  # send_now's threads
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._stop_by = float("inf")
        self._round = 0
        self._idle_round = -1
        self._pending = PendingRows()
        self._last_taken = 0  # rows the last round started or recorded
        self._resync_at = float("-inf")  # read the outbox again at the next round
        db.on_queued(self._learn)

    # -- set-up and lifecycle ------------------------------------------------------------------

    def register(self, kind: str, how: Kind) -> None:
        """Say how to send effects of `kind`."""
        self.kinds[kind] = how

    def start(self) -> None:
        """Start sending (what is already queued goes first)."""
        if self._thread is not None:
            return
        self._stopping = False
        self._resync_at = float("-inf")  # rows queued while it was not running
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
        results) on threads of its own, on every replica (leader or not: it answers a request
        this one received); a failure is logged, nothing is retried."""

        def attempt() -> None:
            try:
                call()
            except Exception:
                logger.exception("could not send %s", what)

        with self._cond:
            if self._direct is None:
                self._direct = ThreadPoolExecutor(max_workers=2, thread_name_prefix="answer")
            self._direct.submit(attempt)

    def close(self) -> None:
        """Stop (see `stop`) and let the direct answers already handed over finish."""
        self.stop()
        with self._cond:
            direct, self._direct = self._direct, None
        if direct is not None:
            direct.shutdown(wait=True)

    def wake(self) -> None:
        """Look for due rows now, reading the outbox again (rows another process queued)."""
        with self._cond:
            self._resync_at = float("-inf")
            self._woken = True
            self._cond.notify_all()

    def _learn(self, rows: Sequence[Pending], changed: bool) -> None:
        """A commit queued `rows`, or `changed` others: called as it commits."""
        with self._cond:
            if self._thread is None:
                return  # not sending here (another replica leads): read at start instead
            self._pending.add(rows)
            if changed:
                self._resync_at = float("-inf")
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
            self._resync_at = float("-inf")
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
            # Commits that arrive together are served by one round.
            time.sleep(BUSY_ROUND if self._last_taken > BUSY_ROWS else QUIET_ROUND)
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
        if self._monotonic() >= self._resync_at:
            self._resync()
        free = self._workers * PER_WORKER - len(self._inflight)
        if free <= 0:
            return None  # a finished send wakes the next round
        now = self.clock.now()
        with self._cond:
            # Enough to fill the free places, past rows waiting for a retry or their pace.
            firsts = self._pending.firsts(len(self._inflight) + free + LOOKAHEAD)
        # Paced kinds first: their pace keeps them from crowding out the rest, and a burst of
        # private replies must not hold the live tallies back until it has all gone.
        heads = sorted(firsts, key=lambda row: self.kinds.get(row.kind, NEVER).pace is None)
        mono = self._monotonic()
        next_wait: float | None = None
        taken: list[Pending] = []
        expired: list[_Done] = []
        paid: dict[int, tuple[str, str | None]] = {}
        waiting = False
        for row in heads:
            if len(taken) >= free:
                break  # enough to keep every worker busy until the next round
            if row.id in self._inflight or row.target in self._busy:
                continue
            how = self.kinds.get(row.kind)
            if how is None:
                expired.append(_Done(row, failed=f"no sender for {row.kind}"))
                continue
            if row.expires_at is not None and now > row.expires_at:
                expired.append(_Done(row, failed="expired"))
                continue
            if how.replaced_by is not None and self._replaced(row, how.replaced_by):
                expired.append(_Done(row, failed=REPLACED))
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
        if taken and not self._claim(taken, now):
            self._last_taken = 0  # another replica leads now: it sends these
            return IDLE_POLL
        with self._cond:
            for row in taken:
                self._inflight.add(row.id)
                self._busy.add(row.target)
        loaded = self._load(taken)
        for row in taken:
            assert self._pool is not None
            self._pool.submit(self._send, row, paid.get(row.id), loaded.get(row.id, NOT_LOADED))
        with self._cond:
            if not waiting and not expired and not self._inflight and not self._done:
                self._idle_round = this_round
                self._cond.notify_all()
        self._last_taken = len(taken) + len(expired)
        return next_wait

    def _claim(self, taken: list[Pending], now: datetime) -> bool:
        """Before a round's sends, in one transaction: take the coalesced rows as done (only
        the latest tally matters: a change while it is sent queues a new one), and with several
        replicas check this one still leads and claim the rest with its epoch. False when
        another replica leads (nothing is sent)."""
        coalesced = [row.id for row in taken if self.kinds[row.kind].pace is not None]
        if self.fence is None and not coalesced:
            return True
        with self.db.transaction() as db:
            if self.fence is not None:
                epoch = self.fence(db)
                if epoch is None:
                    return False
                others = [row.id for row in taken if row.id not in coalesced]
                store.claim(db, ids=others, epoch=epoch, now=now)
            store.mark_sent(db, ids=coalesced, now=now)
        return True

    def take_over(self, epoch: int) -> int:
        """A new leader, before it starts: rows an earlier leader claimed within the last
        INFLIGHT_GRACE seconds may still be on their way to Slack from it; they wait until
        that time has passed (or it records them). Returns how many wait."""
        grace = timedelta(seconds=INFLIGHT_GRACE)
        with self.db.transaction() as db:
            waiting = store.wait_out_claims(db, epoch=epoch, now=self.clock.now(), grace=grace)
        logger.info("outbox: %d rows the last leader was sending wait for it first", waiting)
        return waiting

    def _replaced(self, row: Pending, replaced_by: Callable[[Pending, Pending], bool]) -> bool:
        with self._cond:
            behind = self._pending.behind(row)
        return any(replaced_by(row, later) for later in behind)

    def _resync(self) -> None:
        """Read the outbox again: rows queued elsewhere join, rows no longer unsent leave."""
        with self._cond:
            mark = self._pending.mark
        with self.db.read() as db:
            unsent = store.unsent_ids(db)
            with self._cond:
                missing = [i for i in unsent if i not in self._pending]
            found = store.unsent_rows(db, ids=missing)
        with self._cond:
            # Rows learnt of after the read began may be newer than what it saw.
            gone = [
                row_id
                for row_id in self._pending.learnt_before(mark)
                if row_id not in unsent and row_id not in self._inflight
            ]
            self._pending.remove(gone)
            self._pending.add(found)
            self._resync_at = self._monotonic() + RESYNC

    def _load(self, rows: list[Pending]) -> dict[int, Any]:
        """What the kinds with `load` read for these rows, by row id."""
        loaded: dict[int, Any] = {}
        by_kind: dict[str, list[Pending]] = {}
        for row in rows:
            if self.kinds[row.kind].load is not None:
                by_kind.setdefault(row.kind, []).append(row)
        for kind, batch in by_kind.items():
            load = self.kinds[kind].load
            assert load is not None
            try:
                values = load(batch)
            except Exception:
                # Each send reads for itself instead (and fails, and is retried, if it must).
                logger.exception("outbox: reading for %d %s rows failed", len(batch), kind)
                continue
            loaded.update(zip((row.id for row in batch), values, strict=True))
        return loaded

    def _send(self, row: Pending, paid: tuple[str, str | None] | None, loaded: Any) -> None:
        how = self.kinds[row.kind]
        progress = Progress(self.db, row, loaded)
        done = _Done(row, progress=progress.values)
        if self._stopping and self._monotonic() >= self._stop_by:
            # Still in the pool's queue when the time to stop came: left for the next start.
            done.retry_at, done.error = self.clock.now(), "not started before the bot stopped"
            with self._cond:
                self._done.append(done)
                self._cond.notify_all()
            return
        try:
            with self.budgets.priority(row.priority), self.budgets.prepaid(*(paid or ("", None))):
                done.sent = how.send(row, progress)
        except SlackApiError as error:
            self._failed(row, how, error, done)
        except (URLError, OSError, TimeoutError, SendLater) as error:
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
            after = retry_after_seconds(error.response.headers)
            wait = timedelta(seconds=after) if after is not None else self._delay(row)
            done.retry_at = self.clock.now() + wait
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
            forget = [d.row.id for d in done if self.kinds.get(d.row.kind, NEVER).forget]
            store.mark_sent(db, ids=[i for i in sent if i not in forget], now=now)
            failed: dict[str, list[int]] = {}
            for d in done:
                if d.failed is not None and d.row.id not in forget:
                    failed.setdefault(d.failed, []).append(d.row.id)
                elif d.retry_at is not None:
                    logger.info(
                        "outbox: %s not sent (%s); next try %s", d.row.key, d.error, d.retry_at
                    )
                    store.retry_later(db, row_id=d.row.id, due_at=d.retry_at, error=d.error)
            for reason, ids in failed.items():
                store.mark_failed(db, ids=ids, now=now, reason=reason)
            finished = [d.row.id for d in done if d.retry_at is None]
            store.delete_rows(db, ids=[i for i in forget if i in finished])
        with self._cond:
            for d in done:
                self._inflight.discard(d.row.id)
                self._busy.discard(d.row.target)
                if d.retry_at is None:
                    self._pending.remove([d.row.id])
                else:
                    self._pending.update(
                        replace(
                            d.row,
                            due_at=d.retry_at,
                            attempts=d.row.attempts + 1,
                            progress=dict(d.progress),
                        )
                    )
            self._woken = True
