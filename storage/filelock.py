"""One bot process per SQLite file: an OS lock on a sidecar file next to the database.

SQLite serialises writers but knows nothing of the bot's scheduler, sender and outbox: two
bots on one file would both send every message. The lock is `flock` on `<database>.lock`,
which the kernel drops with the last descriptor of the process that took it, even after
`kill -9`, so a crashed bot never leaves a stale lock. The file holds the holder's pid, for
the message the next one prints; it is never deleted (unlinking a lock file that another
process has open lets two processes hold "the" lock).

PostgreSQL and in-memory SQLite need no lock: several replicas may share a PostgreSQL
database, and an in-memory database belongs to its process anyway.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url

# A probe (`is_held`) holds the lock for a few microseconds: a bot starting at that moment
# tries again for this long before it believes another bot is running.
PROBE_GRACE_SECONDS = 1.0
_RETRY_SECONDS = 0.02


class AlreadyRunning(Exception):
    """Another process holds the database's lock."""

    def __init__(self, database: str, pid: int | None) -> None:
        self.database = database
        self.pid = pid
        holder = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"{database} is locked by another process ({holder})")


class ProcessLock:
    """The held lock (or nothing to hold): released by `release`, on leaving a `with`
    block, or when the process ends."""

    def __init__(self, fd: int | None = None, path: Path | None = None) -> None:
        self._fd = fd
        self.path = path

    @property
    def held(self) -> bool:
        """Whether this handle holds a file lock (False for PostgreSQL and `:memory:`)."""
        return self._fd is not None

    def release(self) -> None:
        """Let the next process take the lock; calling it again does nothing."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock

    def __enter__(self) -> ProcessLock:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()


def lock_path(url: str) -> Path | None:
    """The sidecar lock file of a SQLite file database; None when there is nothing to lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = Path(parsed.database).expanduser().resolve()
    return database.with_name(f"{database.name}.lock")


def hold_single_process(url: str, *, grace: float = PROBE_GRACE_SECONDS) -> ProcessLock:
    """Take the database's lock for as long as the handle lives (keep a reference to it);
    raise AlreadyRunning, with the holder's pid, if another process holds it."""
    path = lock_path(url)
    if path is None:
        return ProcessLock()
    database = str(make_url(url).database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
    try:
        deadline = time.monotonic() + grace
        while not _try_lock(fd, fcntl.LOCK_EX):
            if time.monotonic() >= deadline:
                raise AlreadyRunning(database, _read_pid(fd))
            time.sleep(_RETRY_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    return ProcessLock(fd, path)


def is_held(url: str) -> bool:
    """Whether a running bot holds the database's lock (always False for PostgreSQL and
    `:memory:`, which have none). Takes a shared lock for an instant and lets it go; a bot
    starting meanwhile waits for it (`PROBE_GRACE_SECONDS`)."""
    path = lock_path(url)
    if path is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # no bot has ever run on this file
    try:
        if _try_lock(fd, fcntl.LOCK_SH):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        return True
    finally:
        os.close(fd)


def _try_lock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip())
    return None
