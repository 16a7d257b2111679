"""One bot process per SQLite file: the sidecar `flock` and its probe."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.filelock import AlreadyRunning, hold_single_process, is_held, lock_path

HOLD_AND_SLEEP = (
    "import sys, time\n"
    "from storage.filelock import hold_single_process\n"
    "lock = hold_single_process(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def holder(url: str) -> Iterator[subprocess.Popen[str]]:
    """Another process that holds the lock until it is killed."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_SLEEP, url], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"  # '' if it died first
        yield child
    finally:
        child.kill()
        child.wait(timeout=30)


def test_a_second_holder_is_refused_with_the_first_ones_pid(
    url: str, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(AlreadyRunning) as refused:
        hold_single_process(url, grace=0)
    assert refused.value.pid == holder.pid
    assert refused.value.database.endswith("bot.db")
    assert f"pid {holder.pid}" in str(refused.value)
    assert is_held(url)


def test_the_lock_is_free_once_its_holder_is_killed(
    url: str, holder: subprocess.Popen[str]
) -> None:
    assert is_held(url)
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    assert not is_held(url)
    with hold_single_process(url, grace=0) as lock:
        assert lock.held
        assert is_held(url)
        assert Path(str(lock.path)).read_text() == f"{os.getpid()}\n"


def test_released_it_lets_the_next_one_in(url: str) -> None:
    with hold_single_process(url) as first:
        with pytest.raises(AlreadyRunning) as refused:
            hold_single_process(url, grace=0)  # a second descriptor conflicts, same process
        assert refused.value.pid == os.getpid()
    assert not first.held
    assert not is_held(url)
    hold_single_process(url, grace=0).release()


def test_probing_creates_nothing(url: str, tmp_path: Path) -> None:
    assert not is_held(url)
    assert list(tmp_path.iterdir()) == []


def test_a_bot_starting_during_a_probe_waits_for_it(url: str) -> None:
    hold_single_process(url).release()  # the lock file exists, as after any earlier run
    path = lock_path(url)
    assert path is not None
    probe = os.open(path, os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH)  # what is_held takes for an instant
    threading.Timer(0.2, os.close, args=(probe,)).start()
    with hold_single_process(url, grace=10) as lock:
        assert lock.held


@pytest.mark.parametrize(
    "other",
    ["sqlite://", "sqlite:///:memory:", "postgresql+psycopg://nobody@127.0.0.1:1/none"],
)
def test_postgres_and_memory_databases_take_no_lock(other: str) -> None:
    assert lock_path(other) is None
    with hold_single_process(other) as lock, hold_single_process(other) as again:
        assert not lock.held
        assert not again.held
    assert not is_held(other)
