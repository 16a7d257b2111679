"""`listening-bot person export|forget` on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.cli import main
from bot.rooms.effects import NOTE_EDIT, ROOM_REFRESH
from storage.db import Database
from storage.migrate import current_tables, upgrade
from storage.models import Participant
from storage.outbox import OutboxRow
from storage.polls import Poll, PollVoter
from storage.privacy import is_erased
from storage.zoom.people import SlackEmail
from tests.e2e.privacy_helpers import (
    EMAIL,
    NAME,
    PERSON,
    Facts,
    build_tour,
    rows_holding,
    text_columns,
    tour_report,
)
from tests.storage.history import postgres_row_versions


def _run(*args: str) -> int:
    return main(["--env-file", "/nonexistent/.env", *args])


@pytest.fixture
def tour(database: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Facts]:
    """The tour with the person in it, on the database the CLI is pointed at."""
    facts = build_tour(database)
    monkeypatch.setenv("DATABASE_URL", database.url)
    return database, facts


def _snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (to show that a refused command changed nothing)."""
    tables = {table for table, _ in text_columns()}
    with db.read() as s:
        return {
            table.name: sorted(map(tuple, s.execute(sa_select(table)).all()), key=repr)
            for table in tables
        }


def test_export_holds_everything_stored_about_them(
    tour: tuple[Database, Facts], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, facts = tour
    out = tmp_path / "pat.json"
    assert _run("person", "export", PERSON, "--out", str(out)) == 0
    assert f"wrote {out}: 3 check-ins, 8 votes, 1 room memberships, 1 report-backs" in (
        capsys.readouterr().out
    )
    record = json.loads(out.read_text())
    assert {(c["session_id"], c["role"], c["place"], c["group"]) for c in record["check_ins"]} >= {
        (facts.session_ids[0], "Councillor", "Redcar", "Branch"),
        (facts.session_ids[1], "Councillor", "Redcar", "Branch"),
    }
    named = [v for v in record["votes"] if not v["anonymous"]]
    anonymous = [v for v in record["votes"] if v["anonymous"]]
    assert len(named) == facts.named_votes
    assert all(len(v["chose"]) == 1 for v in named)
    # An anonymous poll stores only that they voted.
    assert len(anonymous) == facts.anonymous_votes
    assert all(v["chose"] is None for v in anonymous)
    assert [(r["session_id"], r["joined_how"]) for r in record["rooms"]] == [
        (facts.session_ids[0], "late")
    ]
    assert [r["summary"] for r in record["report_backs"]] == ["Buses every hour are not enough."]
    assert [
        (n["session_id"], n["thread_of_room"], n["about_them"], n["moved_by_them"])
        for n in record["room_notes"]
    ] == [(facts.session_ids[0], 1, True, True)]
    zoom = record["zoom"]
    assert {(p["name"], p["email"]) for p in zoom["people"]} == {(NAME, EMAIL.lower())}
    assert len(zoom["people"]) == 2  # the first session (matched) and the third (Zoom only)
    assert [a["option_index"] for a in zoom["poll_answers"]] == [1]
    assert zoom["slack_email"][0]["email"] == EMAIL.lower()
    assert {m["kind"] for m in record["messages"]} >= {"room.member_told", "room.member_note"}
    # The Zoom-only id of the third session is theirs too, found through the email.
    assert facts.zoom_id in record["user_ids"]


def test_export_by_email_finds_the_slack_user_and_the_zoom_rows(
    tour: tuple[Database, Facts], tmp_path: Path
) -> None:
    _, facts = tour
    out = tmp_path / "pat.json"
    assert _run("person", "export", EMAIL.upper(), "--out", str(out)) == 0
    record = json.loads(out.read_text())
    assert set(record["user_ids"]) >= {PERSON, facts.zoom_id}
    assert len(record["check_ins"]) == 3  # two on Slack, one from Zoom only
    assert len(record["zoom"]["poll_answers"]) == 1


def test_forget_leaves_them_in_no_table_and_the_totals_unchanged(
    tour: tuple[Database, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    db, facts = tour
    assert set(rows_holding(db, PERSON, EMAIL, NAME, facts.zoom_id)) >= {
        "participant.user_id",
        "poll_vote.user_id",
        "zoom_person.email",
        "outbox.target",
    }
    before = tour_report(db)

    assert _run("person", "forget", PERSON) == 0
    out = capsys.readouterr().out
    assert f"erased {PERSON}: 3 check-ins, 8 votes (kept as unlinked counts), " in out
    assert "1 room memberships" in out
    assert "2 Zoom people" in out
    assert "1 room thread notes (kept, naming nobody)" in out
    assert "2 posted messages will drop the mention" in out

    assert rows_holding(db, PERSON, EMAIL, NAME, facts.zoom_id) == {}
    after = tour_report(db)
    assert after.attendance.check_ins == before.attendance.check_ins
    assert after.attendance.people == before.attendance.people
    assert "Branch" in dict(before.attendance.by_group)
    assert "Branch" not in dict(after.attendance.by_group)
    for was, now in zip(before.polls, after.polls, strict=True):
        assert now.overall == was.overall  # their votes still count
        assert now.by_session == was.by_session
        if was.anonymous_answers:
            continue
        # ... but no longer in a breakdown: two votes (sessions 1 and 2) as a councillor
        roles_before = {r.name: r.n for r in was.by_role}
        roles_after = {r.name: r.n for r in now.by_role}
        assert roles_before["Councillor"] - roles_after["Councillor"] == 2
        assert "Branch" not in {r.name for r in now.by_group}
        assert sum(roles_after.values()) < sum(roles_before.values())

    with db.read() as s:
        rows = s.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()
    # Their room's message and the note in its thread are edited (they named them); what was
    # queued naming them is gone.
    edits = [row for row in rows if row.kind == ROOM_REFRESH and ":erase:" in row.key]
    assert [json.loads(row.args)["room_id"] for row in edits] == [facts.room[1]]
    notes = [row for row in rows if row.kind == NOTE_EDIT and ":erase:" in row.key]
    assert [json.loads(row.args)["round_id"] for row in notes] == [facts.room[0]]
    assert [row.kind for row in rows if row.sent_at is not None] == ["room.member_told"]
    assert "room.member_note" not in {row.kind for row in rows}


def test_forget_by_email_erases_the_slack_user_and_their_zoom_rows(
    tour: tuple[Database, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    db, facts = tour
    assert _run("person", "forget", EMAIL) == 0
    assert f"erased {EMAIL}: 3 check-ins" in capsys.readouterr().out
    assert rows_holding(db, PERSON, EMAIL, NAME, facts.zoom_id) == {}


def test_forget_twice_or_an_unknown_id_says_so_and_changes_nothing(
    tour: tuple[Database, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = tour
    assert _run("person", "forget", PERSON) == 0
    capsys.readouterr()
    kept = _snapshot(db)
    for who in (PERSON, "U0NOBODY99", "nobody@example.org"):
        assert _run("person", "forget", who) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"nothing is stored about '{who}'" in err
        assert _snapshot(db) == kept
    assert _run("person", "export", "U0NOBODY99", "--out", "/tmp/never.json") == 2
    assert not Path("/tmp/never.json").exists()


def test_forget_scrubs_the_sqlite_file_and_its_write_ahead_log(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_database
    facts = build_tour(db)
    path = Path(str(make_url(db.url).database))
    wal = Path(f"{path}-wal")
    needles = [n.encode() for n in (PERSON, EMAIL.lower(), NAME, facts.zoom_id)]

    def file_bytes() -> bytes:
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    # The bot still has the database open (its connection keeps the log from going away).
    with db.read() as s:
        s.execute(select(OutboxRow.id)).all()
    assert all(needle in file_bytes() for needle in needles)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert _run("person", "forget", PERSON) == 0
    found = [needle for needle in needles if needle in file_bytes()]
    assert found == []
    # The erased rows' tokens are what the file holds instead.
    assert b"erased-" in file_bytes()


@pytest.mark.postgres
def test_forget_leaves_no_dead_row_versions_on_postgresql(
    postgres_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = postgres_database
    build_tour(db)
    tables = [
        "participant",
        "poll_voter",
        "poll_vote",
        "breakout_room_member",
        "report_back",
        "zoom_person",
        "zoom_answer",
        "slack_email",
        "outbox",
    ]
    held = [t for t in tables if any(PERSON.encode() in d for _, d in postgres_row_versions(db, t))]
    assert {"participant", "poll_vote", "outbox"} <= set(held)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert _run("person", "forget", PERSON) == 0
    for table in tables:
        versions = postgres_row_versions(db, table)
        assert not [d for _, d in versions if PERSON.encode() in d], table
        assert not [d for _, d in versions if EMAIL.lower().encode() in d], table


def test_forget_leaves_someone_whose_id_or_email_holds_theirs_untouched(
    tour: tuple[Database, Facts],
) -> None:
    """Another person's longer id (UPERSON0012) and email (jopat.person@…) hold the erased
    person's: only whole ids and emails are erased, so theirs stay exactly as they were."""
    db, facts = tour
    other, email = f"{PERSON}2", f"jo{EMAIL}"
    now = datetime.now(UTC)
    with db.transaction() as s:
        s.add(SlackEmail(user_id=other, email=email, looked_up_at=now))
        s.add(
            Participant(
                session_id=facts.session_ids[0],
                user_id=other,
                role=f"Knows {PERSON}",  # free text naming the erased id on its own: erased
                place=f"{email} and {EMAIL.lower()}.uk",
                checked_in_at=now,
                updated_at=now,
            )
        )
    assert _run("person", "forget", PERSON) == 0
    with db.read() as s:
        kept = s.get(SlackEmail, other)
        assert kept is not None
        assert kept.email == email
        [theirs] = s.exec(select(Participant).where(col(Participant.user_id) == other)).all()
    assert theirs.place == f"{email} and {EMAIL.lower()}.uk"
    assert theirs.role is not None
    assert theirs.role.startswith("Knows erased-")
    assert rows_holding(db, other) != {}
    # Nothing of theirs is taken for the erased person's: not a copy, not a second forget.
    with db.transaction() as s:
        s.add(
            OutboxRow(
                key=f"user:{other}:note",
                kind="test.note",
                target=f"user:{other}",
                priority=3,
                args=json.dumps({"user_id": other}),
                created_at=now,
                due_at=now,
                sent_at=now,
            )
        )
    assert _run("person", "forget", PERSON) == 2
    assert _run("person", "export", PERSON, "--out", "/tmp/never-theirs.json") == 2
    assert not Path("/tmp/never-theirs.json").exists()
    # Erasing them too leaves nothing of either.
    assert _run("person", "forget", other) == 0
    assert rows_holding(db, PERSON, other, email) == {}


def _reopen_a_poll_they_voted_in(db: Database) -> int:
    """One of the person's polls, open again until 19:42 on 2 March 2026 (as if running)."""
    with db.transaction() as s:
        poll_id = s.exec(
            select(PollVoter.poll_id)
            .where(col(PollVoter.user_id) == PERSON)
            .order_by(col(PollVoter.poll_id))
        ).first()
        assert poll_id is not None
        s.execute(
            update(Poll)
            .where(col(Poll.id) == poll_id)
            .values(closed_at=None, closes_at=datetime(2026, 3, 2, 19, 42, tzinfo=UTC))
        )
    return poll_id


def test_forget_while_a_poll_they_voted_in_is_open_is_refused_and_changes_nothing(
    tour: tuple[Database, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = tour
    poll_id = _reopen_a_poll_they_voted_in(db)
    kept = _snapshot(db)
    assert _run("person", "forget", PERSON) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"answered poll {poll_id}, still open until 19:42 UTC on 02 Mar 2026" in err
    assert "they could vote in it again" in err
    assert _snapshot(db) == kept
    # Closed, the poll is no longer in the way.
    with db.transaction() as s:
        s.execute(update(Poll).where(col(Poll.id) == poll_id).values(closed_at=datetime.now(UTC)))
    assert _run("person", "forget", PERSON) == 0
    assert rows_holding(db, PERSON) == {}


def test_erased_voters_keep_one_token_per_poll(tour: tuple[Database, Facts]) -> None:
    db, _ = tour
    assert _run("person", "forget", PERSON) == 0

    with db.read() as s:
        tokens = [row.user_id for row in s.exec(select(PollVoter)).all() if is_erased(row.user_id)]
    # One per poll they voted in: votes in different polls cannot be linked to each other.
    assert len(tokens) == 8
    assert len(set(tokens)) == 8


def test_the_privacy_commands_upgrade_an_older_database_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database of the release before (migration 0016): each command brings it up to date
    and still says one line."""
    url = f"sqlite:///{tmp_path / 'older.db'}"
    db = Database(url)
    try:
        upgrade(db.engine, "0016")
        assert "room_note" not in current_tables(db.engine)
        monkeypatch.setenv("DATABASE_URL", url)
        # A process of its own: its log lines (Alembic's among them) reach its stderr.
        for args in (("person", "forget", "U0NOBODY99"), ("quote", "withdraw", "q1")):
            done = subprocess.run(
                [sys.executable, "-m", "bot.cli", "--env-file", "/nonexistent/.env", *args],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            )
            assert done.returncode == 2
            assert done.stderr.count("\n") == 1, done.stderr
        assert "room_note" in current_tables(db.engine)
        assert _run("purge", "--before", "2026-01-01") == 0
        captured = capsys.readouterr()
        assert captured.err == ""
        assert captured.out.startswith("nothing to purge")
    finally:
        db.dispose()
