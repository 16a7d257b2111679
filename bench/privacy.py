"""Benchmark the data-rights commands on a generated tour (SQLite): `person forget` of one
person, then `purge` of every session, through the CLI as an organiser runs them.

Prints the build time, each command's wall time and what it printed first, and whether the
tour report reads the same before and after the purge. No target was set for these; the
figures are for the closing notes and for spotting a slowdown.

    .venv/bin/python bench/privacy.py [--sessions 20] [--people 300] [--polls 12]
                                      [--report-backs 600]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from bench.tours import build_tour, tour_options  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Participant  # noqa: E402


def _cli(env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""


def main() -> None:
    """Build the tour, then time forget and purge, and compare the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    tour_options(parser, sessions=20, report_backs=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        first = datetime.now(UTC) - timedelta(days=7 * args.sessions + 60)
        url = build_tour(Path(folder), args, start=first)
        db = Database(url)
        with db.read() as s:
            someone = s.exec(select(Participant.user_id)).first()
        db.dispose()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PYTHONPATH": str(ROOT),
            "REPORT_MIN_GROUP": "5",
        }
        env.pop("DATA_RETENTION_DAYS", None)
        assert someone is not None
        elapsed, said = _cli(env, "--env-file", "/nonexistent/.env", "person", "forget", someone)
        print(f"person forget: {elapsed:.2f} s wall — {said[:120]}")
        before = Path(folder) / "before.md"
        _cli(env, "--env-file", "/nonexistent/.env", "report", "--out", str(before))
        cut = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
        elapsed, said = _cli(env, "--env-file", "/nonexistent/.env", "purge", "--before", cut)
        print(f"purge of {args.sessions} sessions: {elapsed:.2f} s wall — {said[:160]}")
        after = Path(folder) / "after.md"
        _cli(env, "--env-file", "/nonexistent/.env", "report", "--out", str(after))
        same = before.read_bytes() == after.read_bytes()
        print(f"tour report the same before and after the purge: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
