"""`listening-bot rehearse`: a whole session offline, and what it leaves behind."""

from __future__ import annotations

import io
import os
import re
import sqlite3
from functools import partial
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import SystemClock
from bot.rehearsal.command import rehearse
from bot.rehearsal.options import RehearsalOptions
from bot.report.small_groups import suppress_report
from bot.report.tour import write_report
from storage.db import Database
from storage.filelock import hold_single_process
from storage.report import SessionFilter

EXAMPLE = Path(__file__).parents[2] / "examples" / "labour-listening-tour.yaml"
_CLOSED = re.compile(r"^(?P<label>.+)\n`[█░]+` \d+% · (?P<count>\d+) of (?P<n>\d+) who voted", re.M)


def _closed_polls(texts: list[str]) -> dict[str, tuple[int, dict[str, int]]]:
    """What the channel was shown when each poll closed: question -> (n, option -> count)."""
    found = {}
    for text in texts:
        if "Poll closed:" not in text:
            continue
        head, _, body = text.partition("\n")
        question = head.split("Poll closed:", 1)[1]
        # A long question wraps over several lines before the first option.
        while body and not _CLOSED.match(body):
            line, _, body = body.partition("\n")
            question += " " + line
        counts = {m["label"]: int(m["count"]) for m in _CLOSED.finditer(body)}
        n = {int(m["n"]) for m in _CLOSED.finditer(body)}
        if counts:
            assert len(n) == 1
            found[" ".join(question.split())] = (n.pop(), counts)
    return found


def test_a_rehearsal_shows_the_session_and_its_report_has_the_same_figures(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    db = tmp_path / "rehearsal.db"
    result = rehearse(
        RehearsalOptions(runsheet=EXAMPLE, participants=15, speed=300, db=db, seed=7), out
    )
    shown = out.getvalue()
    # What each kind of person sees, rendered as text, not JSON.
    assert "#listening-rehearsal — everyone sees" in shown
    assert "Direct message to Sam F (facilitator) — controls" in shown
    assert "Only " in shown
    assert "You're checked in as" in shown
    assert "Now: Welcome, and why we are listening" in shown
    assert "#tour-summaries" in shown
    assert "⏱" in shown
    assert '"type"' not in shown
    assert "<@U" not in shown
    assert "&lt;" not in shown
    assert result.report.exists()
    assert result.report.suffix == ".html"
    # The clock is held while people click: every click is a counted vote, whatever the speed.
    assert result.counts["votes"] == result.counts["clicked"], result.counts
    assert result.counts["votes"] >= 4 * 10

    closed = _closed_polls(result.transcript.texts("#listening-rehearsal"))
    database = Database(f"sqlite:///{db}")
    try:
        report = write_report(
            database,
            SessionFilter(session_ids=(result.session_id,)),
            tmp_path / "again.md",
            now=SystemClock().now(),
            progress=lambda _stage: None,
            shown=partial(suppress_report, min_group=5),
        )
    finally:
        database.dispose()
    compared = 0
    for poll in report.polls:
        question = " ".join(poll.question.split())
        if question not in closed:
            continue
        n, counts = closed[question]
        assert poll.overall.n == n, (question, poll.overall, closed[question])
        shares = {share.label: share.count for share in poll.overall.shares}
        assert shares == counts, (question, shares, counts)
        compared += 1
    assert compared == len(report.polls) == 4, f"recounted {compared}: {sorted(closed)}"
    assert sum(poll.overall.n for poll in report.polls) == result.counts["votes"]
    # Both rounds ran, and every room sent its report-back (with quotes where people agreed).
    with sqlite3.connect(db) as connection:
        rooms = connection.execute("SELECT count(*) FROM breakout_room").fetchone()[0]
        reported = connection.execute("SELECT count(DISTINCT room_id) FROM report_back").fetchone()[
            0
        ]
        rounds = connection.execute("SELECT count(*) FROM breakout_round").fetchone()[0]
    assert rounds == 2
    assert reported == rooms > 0, (reported, rooms)
    # Every poll of the run sheet ran with the run sheet's key.
    assert {poll.key for poll in report.polls} >= {"union-roots", "community-organising"}


def test_the_cli_rehearsal_never_reads_the_real_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real.db"
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=sqlite:///{real}\nSLACK_BOT_TOKEN=xoxb-real-token\n"
        "SLACK_API_URL=http://127.0.0.1:9/\nZOOM_ACCOUNT_ID=acct\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{real}")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/")
    code = main(["rehearse", str(EXAMPLE), "--participants", "4", "--speed", "1200"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert (tmp_path / "rehearsal.db").exists()
    assert (tmp_path / "rehearsal.html").exists()
    assert not real.exists()
    assert "the tour report is rehearsal.html" in printed
    # `listening-bot report` reads what the rehearsal left.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'rehearsal.db'}")
    assert main(["report", "--out", str(tmp_path / "report.md")]) == 0
    assert "union-roots" in (tmp_path / "report.md").read_text() or (
        "trade union roots" in (tmp_path / "report.md").read_text()
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--participants", "0"], "--participants must be between 1 and 1,000, not 0"),
        (["--participants", "1001"], "--participants must be between 1 and 1,000, not 1001"),
        (["--speed", "0.5"], "--speed must be between 1 and 3600"),
        (["--speed", "4000"], "--speed must be between 1 and 3600"),
    ],
)
def test_out_of_range_options_are_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    db = tmp_path / "r.db"
    assert main(["rehearse", str(EXAMPLE), "--db", str(db), *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error
    assert len(error.strip().splitlines()) == 1
    assert not db.exists()


def test_an_unwritable_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["rehearse", str(EXAMPLE), "--db", str(blocker / "r.db")]) == 2
    assert "cannot write --db" in capsys.readouterr().err


def test_a_database_set_up_but_without_sessions_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "prod.db"
    with sqlite3.connect(real) as connection:
        connection.execute("CREATE TABLE listening_session (channel_id TEXT)")
    before = real.read_bytes()
    assert main(["rehearse", str(EXAMPLE), "--db", str(real)]) == 2
    assert "not a rehearsal's" in capsys.readouterr().err
    assert real.read_bytes() == before


@pytest.mark.parametrize("name", ["report.html", "notes.md"])
def test_a_database_named_like_the_report_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    assert main(["rehearse", str(EXAMPLE), "--db", str(tmp_path / name)]) == 2
    assert "would be overwritten by the report" in capsys.readouterr().err
    assert not (tmp_path / name).exists()


def test_a_database_another_rehearsal_is_using_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "busy.db"
    db.write_bytes(b"in use")
    with hold_single_process(f"sqlite:///{db}"):  # as the other rehearsal's process does
        assert main(["rehearse", str(EXAMPLE), "--db", str(db)]) == 2
    error = capsys.readouterr().err
    assert error.strip().splitlines() == [
        f"listening-bot: another listening-bot is already running on {db} "
        f"(pid {os.getpid()}); give this one another --db"
    ]
    assert db.read_bytes() == b"in use"


def test_a_database_that_is_not_a_regular_file_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pipe = tmp_path / "pipe.db"
    os.mkfifo(pipe)
    assert main(["rehearse", str(EXAMPLE), "--db", str(pipe)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert pipe.is_fifo()


def test_a_database_that_is_not_a_rehearsal_is_never_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "listening-bot.db"
    with sqlite3.connect(real) as connection:
        connection.execute("CREATE TABLE listening_session (channel_id TEXT)")
        connection.execute("INSERT INTO listening_session VALUES ('C0REALCHAN')")
    before = real.read_bytes()
    assert main(["rehearse", str(EXAMPLE), "--db", str(real)]) == 2
    assert "not a rehearsal's" in capsys.readouterr().err
    assert real.read_bytes() == before


def test_a_bad_or_missing_run_sheet_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - poll: One option?\n    key: k\n    options: [Yes]\n")
    db = tmp_path / "r.db"
    assert main(["rehearse", str(bad), "--db", str(db)]) == 2
    error = capsys.readouterr().err
    assert "bad.yaml: line 5" in error
    assert "options" in error
    assert main(["rehearse", str(tmp_path / "missing.yaml"), "--db", str(db)]) == 2
    assert "missing.yaml" in capsys.readouterr().err
    assert not db.exists()
