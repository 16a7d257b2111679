"""Benchmark `listening-bot report`: 50 sessions x 300 people x 12 polls, 2,000 report-backs.

Prints the build time of the data, then the report's wall time and peak memory (max RSS of the
report process). Targets: <= 5 s and <= 500 MB.

    .venv/bin/python bench/report.py [--sessions 50] [--people 300] [--polls 12]
                                     [--report-backs 2000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.tours import build_tour, tour_options  # noqa: E402

PEAK_OF_CHILD = """
import resource, subprocess, sys
subprocess.run([sys.executable, "-m", "bot.cli", *sys.argv[1:]], check=True,
               stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def main() -> None:
    """Build the tour, then time the report command for HTML and Markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    tour_options(parser, sessions=50, report_backs=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = build_tour(Path(folder), args)
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        for name in ("report.html", "report.md"):
            out = Path(folder) / name
            started = time.perf_counter()
            # A fresh wrapper per run, so the peak it reports belongs to this report alone.
            measured = subprocess.run(
                [sys.executable, "-c", PEAK_OF_CHILD, "report", "--out", str(out)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
            peak = int(measured.stdout.strip().splitlines()[-1]) / 1024
            print(
                f"{name}: {elapsed:.2f} s wall (target <= 5 s), peak RSS {peak:.0f} MB "
                f"(target <= 500 MB), {out.stat().st_size / 1024:.0f} KiB"
            )


if __name__ == "__main__":
    main()
