"""One leader among the replicas: it alone runs the deadlines, the sender and the Zoom worker.

On SQLite there is one process (an OS file lock keeps it so), and it leads from the start. On
PostgreSQL every replica keeps a connection of its own (`storage.leader`), listens there for
the others' notices, and tries the leader's advisory lock every INTERVAL seconds: the replica
that gets it raises the epoch and starts leading. A leader checks its connection every
INTERVAL seconds (HEARTBEAT_TIMEOUT at most): when it is gone (the process lost the database,
or someone ended that backend), PostgreSQL has freed the lock for the next, and this replica
stops leading at once. A new leader recovers what the last one left: overdue deadlines are
run and unsent rows sent, as after a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import psycopg
from sqlmodel import Session

from bot.clock import Clock
from storage import leader as store
from storage.db import Database

logger = logging.getLogger(__name__)

INTERVAL = 1.0  # seconds between tries for the lock, and between heartbeats of the leader
HEARTBEAT_TIMEOUT = 2.0  # a lock connection slower than this is taken as lost
RECONNECT_WAIT = 0.5
# A leader that lost its lock lets the others try first: a follower tries every INTERVAL.
STAND_BACK = 2.5 * INTERVAL

Notice = Callable[[str], None]


class Leadership:
    """Whether this replica leads, and what to do when that changes or another replica notifies.

    `on_lead(epoch)` and `on_lose()` run on the leadership's own thread (or in `start()` for
    the first try), one at a time; `on_notice[topic](text)` gets the notices other replicas
    send as "topic replica text".
    """

    def __init__(self, db: Database, clock: Clock, replica: str) -> None:
        self.db = db
        self.clock = clock
        self.replica = replica
        self.on_lead: list[Callable[[int], None]] = []
        self.on_lose: list[Callable[[], None]] = []
        self.on_notice: dict[str, list[Notice]] = {}
        # Told how many replicas run (leader or not) when that changes: budgets shared by all.
        self.on_replicas: list[Callable[[int], None]] = []
        self.replicas = 1
        self.epoch: int | None = None
        self._connection: psycopg.Connection[object] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.RLock()  # one change of role at a time
        self._try_from = 0.0  # monotonic: no try for the lock before this

    @property
    def is_leader(self) -> bool:
        """Whether this replica leads now."""
        return self.epoch is not None

    @property
    def shared(self) -> bool:
        """Whether replicas share the database (PostgreSQL): notices and fencing apply."""
        return not self.db.is_sqlite

    def start(self) -> None:
        """Lead at once if nobody does (always, on SQLite), else keep trying in the background."""
        self._stop.clear()
        if not self.shared:
            self._lead(0)
            return
        try:
            self._round(wait=0.0)
        except (psycopg.Error, OSError) as error:
            logger.warning("leadership: database not reachable yet (%s); trying again", error)
            self._drop()
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop leading (what the leader ran stops first) and close the lock connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_TIMEOUT + INTERVAL + 5)
            self._thread = None
        self._lose()
        self._close()

    def fence(self, db: Session) -> int | None:
        """Fencing, in the transaction that claims what this replica is about to send: its
        epoch if that is still the current one, else None. Checked in the database, so a
        leader that lost its lock unawares is refused; the epoch's row is held until commit,
        so no new leader starts in between (it waits out the claims made, see
        `storage.outbox.wait_out_claims`)."""
        epoch = self.epoch
        if epoch is None:
            return None
        if not self.shared:
            return epoch
        if store.epoch_is(db, epoch):
            return epoch
        logger.warning("leadership: epoch %d is over; another replica leads", epoch)
        return None

    def still_leading(self) -> bool:
        """Whether this replica's epoch is still the current one (see `fence`)."""
        with self.db.transaction() as db:
            return self.fence(db) is not None

    def notify(self, topic: str, text: str = "") -> None:
        """Tell the other replicas (the leader) `topic` now; nothing to do on SQLite."""
        if self.shared:
            store.notify_now(self.db.url, self.replica, f"{topic} {self.replica} {text}")

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round(wait=INTERVAL)
            except Exception as error:  # the connection, or starting to lead, failed
                if self.is_leader:
                    logger.error("leadership: lost the lock connection (%s); stopping", error)
                self._lose()
                self._drop()
                self._stop.wait(RECONNECT_WAIT)

    def _round(self, *, wait: float) -> None:
        """Connect if needed, try for the lock, pass on the notices of `wait` seconds, and
        check the connection (raises when it is gone)."""
        connection = self._connection
        if connection is None:
            connection = store.connect(self.db.url, self.replica, timeout=HEARTBEAT_TIMEOUT)
            store.listen(connection)
            self._connection = connection
        if not self.is_leader and time.monotonic() >= self._try_from and store.try_lock(connection):
            epoch = store.raise_epoch(connection, self.replica, self.clock.now())
            logger.info("leadership: %s leads (epoch %d)", self.replica, epoch)
            self._lead(epoch)
        if wait > 0:
            for payload in store.notices(connection, wait):
                self._dispatch(payload)
                if self._stop.is_set():
                    return
        store.heartbeat(connection, HEARTBEAT_TIMEOUT)
        replicas = store.count_replicas(connection)
        if replicas != self.replicas:
            self.replicas = replicas
            logger.info("leadership: %d replicas running", replicas)
            for told in self.on_replicas:
                told(replicas)

    def _dispatch(self, payload: str) -> None:
        topic, _, rest = payload.partition(" ")
        sender, _, text = rest.partition(" ")
        if sender == self.replica:
            return  # this replica's own commits are known to it already
        for handler in self.on_notice.get(topic, []):
            try:
                handler(text)
            except Exception:
                logger.exception("leadership: handling a %s notice failed", topic)

    def _lead(self, epoch: int) -> None:
        with self._lock:
            self.epoch = epoch
            for step in self.on_lead:
                step(epoch)

    def _lose(self) -> None:
        with self._lock:
            if self.epoch is None:
                return
            self.epoch = None
            self._try_from = time.monotonic() + STAND_BACK
            for step in self.on_lose:
                try:
                    step()
                except Exception:
                    logger.exception("leadership: stopping what the leader ran failed")

    def _drop(self) -> None:
        self._close()
        self._connection = None

    def _close(self) -> None:
        connection = self._connection
        if connection is not None:
            try:
                connection.close()
            except Exception:  # closing a broken connection may fail too
                logger.debug("leadership: closing the lock connection failed", exc_info=True)
        self._connection = None
