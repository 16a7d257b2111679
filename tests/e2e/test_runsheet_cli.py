"""`listening-bot runsheet check|add|list` as organisers run them, on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli import main
from storage import repository as repo
from storage.db import Database
from storage.runsheets import RunSheetVersion

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "labour-listening-tour.yaml"
BAD = """\
name: tour
steps:
  - poll: Has the party drifted?
    key: union-roots
    options: [Agree]
    multi: yes
"""


@pytest.fixture
def db_url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return sqlite_url


def _run(*args: str) -> int:
    return main(["--env-file", "/nonexistent/.env", "runsheet", *args])


def _rows(url: str) -> list[RunSheetVersion]:
    db = Database(url)
    try:
        with db.read() as s:
            return list(
                s.exec(select(RunSheetVersion).order_by(col(RunSheetVersion.version))).all()
            )
    finally:
        db.dispose()


def test_check_needs_no_settings_and_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Settings that would stop any other command: check does not read them.
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    monkeypatch.setenv("FACILITATORS", "not-a-user-id")
    assert main(["runsheet", "check", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "ok: labour-listening-tour — 12 steps (3 talks, 4 polls, 2 breakout rounds, 3 notes)\n"
    )
    assert err == ""
    assert list(tmp_path.iterdir()) == []  # no database made


def test_check_bad_prints_each_problem_with_the_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "bad.yaml"
    sheet.write_text(BAD)
    assert _run("check", str(sheet)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{sheet}: line 5: step 1 (poll): options: a poll needs at least 2 options; you gave "
        "only one",
        f"{sheet}: line 6: step 1 (poll): multi: true or false is wanted here, not “yes”",
    ]


def test_check_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("check", str(tmp_path / "nope.yaml")) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yaml'}: no such file\n"


def test_add_bad_stores_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "bad.yaml"
    sheet.write_text(BAD)
    assert _run("add", str(sheet)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 2
    assert not (tmp_path / "listening-bot.db").exists()  # refused before the database is opened


def test_add_twice_then_changed_then_list(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("list") == 0
    assert capsys.readouterr().out == (
        "no run sheets yet — add one with: "
        "listening-bot runsheet add examples/labour-listening-tour.yaml\n"
    )

    assert _run("add", str(EXAMPLE)) == 0
    assert capsys.readouterr().out == "added labour-listening-tour version 1 (12 steps)\n"
    assert _run("add", str(EXAMPLE)) == 0
    assert capsys.readouterr().out == "unchanged: labour-listening-tour is still version 1\n"
    assert [(row.name, row.version) for row in _rows(db_url)] == [("labour-listening-tour", 1)]

    # A session runs version 1; then the sheet changes.
    db = Database(db_url)
    try:
        with db.transaction() as s:
            session = repo.create_session(
                s,
                channel_id="C0SESSION",
                title="Stoke",
                area=None,
                group_type=None,
                zoom_meeting_id=None,
                started_by="U0FACIL",
                now=_rows(db_url)[0].created_at,
            )
            session.runsheet_id = _rows(db_url)[0].id
    finally:
        db.dispose()
    changed = tmp_path / "changed.yaml"
    source = EXAMPLE.read_text().replace("duration: 1m\n", "duration: 90s\n")
    assert source != EXAMPLE.read_text()
    changed.write_text(source)
    assert _run("add", str(changed)) == 0
    assert capsys.readouterr().out == (
        "added labour-listening-tour version 2 (12 steps); sessions that ran version 1 keep it\n"
    )
    v1, v2 = _rows(db_url)
    assert (v1.version, v2.version) == (1, 2)
    assert v1.source == EXAMPLE.read_text()
    assert v2.source == source
    assert '"duration":"1m30s"' in v2.steps

    assert _run("list") == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["name", "version", "steps", "added", "sessions"]
    assert row.split() == [
        "labour-listening-tour",
        "2",
        "12",
        v2.created_at.strftime("%Y-%m-%d"),
        "1",
    ]


def test_runsheet_help_names_each_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["runsheet", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("check", "add", "list"):
        assert f"    {command} " in out
