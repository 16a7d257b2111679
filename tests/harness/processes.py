"""`listening-bot` child processes for process-level tests: environment, ports, output."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.harness.slack_limits import RATE_SCALE
from tests.harness.waiting import eventually


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    # The bot plans within Slack's limits at the speed the fake Slack enforces them.
    env["SLACK_RATE_SCALE"] = str(RATE_SCALE)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """A `listening-bot` child process whose output is kept for failure messages."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            env={**_base_env(), **env},
            stdout=self._file,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text()

    def wait_until_serving(self, base: str, timeout: float = 30) -> None:
        """Wait until `serve` answers /healthz at `base` (it must not exit meanwhile)."""

        def healthy() -> bool:
            assert self.process.poll() is None, self.output()
            try:
                return requests.get(f"{base}/healthz", timeout=1).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                return False  # not listening yet, or still starting up on a busy machine

        eventually(healthy, timeout=timeout, what="listening-bot serve to answer /healthz")

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._file.close()
        return int(self.process.returncode)
