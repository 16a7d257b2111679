"""`listening-bot purge`: people erased from old sessions, the tour report's figures kept."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import col, func, select

from bot.cli import main
from bot.clock import FixedClock
from bot.privacy.retention import Retention
from bot.rooms.effects import NOTE_EDIT, ROOM_REFRESH
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession, Participant, SessionFacilitator
from storage.outbox import OutboxRow
from storage.polls import Poll, PollVote, PollVoter
from storage.privacy import ELSEWHERE, SMALL_GROUPS, PollBreakdown, SessionPurge
from storage.report import polls_of
from storage.zoom.people import SlackEmail
from tests.e2e.privacy_helpers import EMAIL, NAME, PERSON, Facts, build_tour, rows_holding


def _run(*args: str) -> int:
    return main(["--env-file", "/nonexistent/.env", *args])


@pytest.fixture
def tour(database: Database, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Facts]:
    """The tour (three weekly sessions from 2 March 2026) on the database the CLI uses."""
    facts = build_tour(database)
    monkeypatch.setenv("DATABASE_URL", database.url)
    return database, facts


def _reports(tmp_path: Path, name: str) -> tuple[str, str]:
    """The tour report as Markdown and as HTML, written by the CLI."""
    md, html = tmp_path / f"{name}.md", tmp_path / f"{name}.html"
    assert _run("report", "--out", str(md)) == 0
    assert _run("report", "--out", str(html)) == 0
    return md.read_text(), html.read_text()


def _chosen_reports(
    tmp_path: Path, name: str, choices: list[tuple[int, ...]]
) -> dict[tuple[int, ...], str]:
    """The tour report as Markdown for each choice of sessions (`--session`; () for all)."""
    written = {}
    for choice in choices:
        out = tmp_path / f"{name}-{'-'.join(map(str, choice)) or 'all'}.md"
        args = [arg for session in choice for arg in ("--session", str(session))]
        assert _run("report", *args, "--out", str(out)) == 0
        written[choice] = out.read_text()
    return written


def _purged(db: Database) -> int:
    with db.read() as s:
        return int(s.exec(select(func.count()).select_from(SessionPurge)).one())


def test_purge_erases_everyone_and_the_report_stays_the_same(
    tour: tuple[Database, Facts], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, facts = tour
    md, html = _reports(tmp_path, "before")
    assert "Branch" in md  # the person's own group, in the breakdowns
    assert _run("purge", "--before", "2026-06-01") == 0
    out = capsys.readouterr().out
    assert "purged 3 session(s) started before 2026-06-01 00:00 UTC: erased 39 people" in out
    assert "breakdown rows for the tour report" in out
    # The same edits as `person forget` queues: the person's room message and thread note.
    assert "posted messages will drop their mentions" in out
    with db.read() as s:
        erasing = s.exec(select(OutboxRow).where(col(OutboxRow.key).contains(":erase:"))).all()
    assert {row.kind for row in erasing} >= {ROOM_REFRESH, NOTE_EDIT}
    assert [json.loads(r.args)["round_id"] for r in erasing if r.kind == NOTE_EDIT] == [
        facts.room[0]
    ]
    # 36 participants, the person (on Slack and, in the third session, Zoom only), the facilitator

    assert (md, html) == _reports(tmp_path, "after")
    # Nobody is left: not the person, not the other participants, not the facilitator.
    assert rows_holding(db, PERSON, EMAIL, NAME, facts.zoom_id, "U0000000", "U0FACIL") == {}
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(PollBreakdown)).one() > 0
        users = s.exec(select(Participant.user_id)).all()
    assert users
    assert all(user.startswith("erased-") for user in users)

    # Again: nothing left to do, and the report still the same.
    assert _run("purge", "--before", "2026-06-01") == 0
    assert "nothing to purge" in capsys.readouterr().out
    assert (md, html) == _reports(tmp_path, "again")


def test_purge_of_the_oldest_session_keeps_later_ones_and_the_report(
    tour: tuple[Database, Facts], tmp_path: Path
) -> None:
    db, facts = tour
    before = _reports(tmp_path, "before")
    assert _run("purge", "--before", "2026-03-05") == 0  # the first session only
    assert before == _reports(tmp_path, "after")
    first, second, _ = facts.session_ids
    with db.read() as s:
        kept = s.exec(
            select(Participant.session_id).where(col(Participant.user_id) == PERSON)
        ).all()
        # Still in a later session: their email mapping stays for it.
        emails = s.exec(select(SlackEmail.user_id)).all()
    assert kept == [second]
    assert emails == [PERSON]
    # A later purge of the rest keeps the same figures too.
    assert _run("purge", "--before", "2026-06-01") == 0
    assert before == _reports(tmp_path, "last")
    assert rows_holding(db, PERSON, EMAIL) == {}
    assert first != second


def test_purge_refuses_a_date_in_the_future_or_none_at_all(
    tour: tuple[Database, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    db, _ = tour
    assert _run("purge", "--before", "2099-01-01") == 2
    err = capsys.readouterr().err
    assert "--before 2099-01-01 is in the future" in err
    assert err.count("\n") == 1
    assert _run("purge") == 2
    err = capsys.readouterr().err
    assert "purge needs --before YYYY-MM-DD, or DATA_RETENTION_DAYS" in err
    for wrong in ("2026-13-01", "2026/01/01", "yesterday"):
        with pytest.raises(SystemExit) as refused:
            _run("purge", "--before", wrong)
        assert refused.value.code == 2
        err = capsys.readouterr().err
        assert f"'{wrong}' is not a date: use YYYY-MM-DD" in err
        assert err.count("\n") == 1, err  # one line, not argparse's usage first
    assert _purged(db) == 0
    assert rows_holding(db, PERSON) != {}


def test_purge_uses_data_retention_days_by_default(
    tour: tuple[Database, Facts], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = tour
    monkeypatch.setenv("DATA_RETENTION_DAYS", "36500")  # a century: nothing is that old
    assert _run("purge") == 0
    assert _purged(db) == 0
    monkeypatch.setenv("DATA_RETENTION_DAYS", "30")
    assert _run("purge") == 0
    assert _purged(db) == 3


@pytest.mark.parametrize(
    "cut_offs", [("2026-03-05", "2026-06-01"), ("2026-06-01",)], ids=["first-then-all", "all"]
)
def test_any_choice_of_sessions_counts_each_person_once_after_purges(
    tour: tuple[Database, Facts], tmp_path: Path, cut_offs: tuple[str, ...]
) -> None:
    """The person checked in to the first two sessions: a report of any of the sessions, alone
    or together, counts them once before and after each purge (the first session, then the
    rest; or all at once)."""
    _, facts = tour
    ids = facts.session_ids
    choices: list[tuple[int, ...]] = [(a,) for a in ids]
    choices += [(a, b) for n, a in enumerate(ids) for b in ids[n + 1 :]]

    def reports(name: str) -> dict[tuple[int, ...], str]:
        return _chosen_reports(tmp_path, name, choices)

    before = reports("before")
    # The first two sessions' twelve people each, and the person at both.
    assert "- People (distinct): 25\n" in before[(ids[0], ids[1])]
    for cut_off in cut_offs:
        assert _run("purge", "--before", cut_off) == 0
        assert reports(cut_off) == before


def test_a_session_with_a_poll_still_open_is_left_for_a_later_purge(
    tour: tuple[Database, Facts], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, facts = tour
    first = facts.session_ids[0]
    with db.read() as s:
        poll_id = s.exec(select(Poll.id).where(col(Poll.session_id) == first)).first()
    before = _reports(tmp_path, "before")
    with db.transaction() as s:  # as if it were still running
        s.execute(update(Poll).where(col(Poll.id) == poll_id).values(closed_at=None))
    capsys.readouterr()
    assert _run("purge", "--before", "2026-06-01") == 0
    out = capsys.readouterr().out
    assert f"left session {first} for a later purge: a poll in it is still open" in out
    assert "purged 2 session(s)" in out
    with db.read() as s:
        assert s.exec(select(SessionPurge.session_id)).all() == facts.session_ids[1:]
        assert s.exec(select(Participant).where(col(Participant.user_id) == PERSON)).first()

    with db.transaction() as s:
        s.execute(update(Poll).where(col(Poll.id) == poll_id).values(closed_at=func.now()))
    assert _run("purge", "--before", "2026-06-01") == 0
    assert "purged 1 session(s)" in capsys.readouterr().out
    assert rows_holding(db, PERSON, EMAIL) == {}
    assert _reports(tmp_path, "after") == before


def test_the_daily_purge_scrubs_the_history_later_when_the_database_was_busy(
    sqlite_database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db = sqlite_database
    build_tour(db)
    path = Path(str(make_url(db.url).database))
    wal = Path(f"{path}-wal")

    def held() -> list[str]:
        data = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        return [who for who in (PERSON, EMAIL.lower(), NAME) if who.encode() in data]

    assert held()
    retention = Retention(db, FixedClock(datetime(2026, 12, 3, tzinfo=UTC)), days=30, min_group=5)
    # Another connection in the middle of a read keeps the write-ahead log from being emptied.
    reader = sqlite3.connect(path)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM participant").fetchone()
        with caplog.at_level(logging.WARNING, logger="bot.privacy.retention"):
            done = retention.purge_due()
        assert done.sessions == 3
        assert not done.scrubbed
        assert "tried again every 10 minutes" in caplog.text
        assert held()  # the rows are erased, their earlier versions still in the log
        assert retention.scrub_pending() is False  # still busy
    finally:
        reader.close()
    assert retention.scrub_pending() is True
    assert held() == []
    assert retention.scrub_pending() is True  # nothing left to do


def test_a_session_not_ended_is_left_for_a_later_purge(
    tour: tuple[Database, Facts], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, facts = tour
    first = facts.session_ids[0]
    before = _reports(tmp_path, "before")
    with db.transaction() as s:  # nobody ran /session end: people could still check in
        s.execute(
            update(ListeningSession).where(col(ListeningSession.id) == first).values(ended_at=None)
        )
    ended_at = datetime(2026, 3, 2, 20, tzinfo=UTC)
    capsys.readouterr()
    assert _run("purge", "--before", "2026-06-01") == 0
    out = capsys.readouterr().out
    assert f"left session {first} for a later purge: it has not ended" in out
    assert "purged 2 session(s)" in out
    with db.read() as s:
        facilitators = s.exec(
            select(SessionFacilitator.user_id).where(col(SessionFacilitator.session_id) == first)
        ).all()
        assert facilitators  # the running session's facilitators keep their rights
        assert s.exec(select(Participant).where(col(Participant.user_id) == PERSON)).first()

    # Ended just now: what its end sends may still be on its way, so it waits an hour.
    with db.transaction() as s:
        s.execute(
            update(ListeningSession)
            .where(col(ListeningSession.id) == first)
            .values(ended_at=datetime.now(UTC) - timedelta(minutes=5))
        )
    assert _run("purge", "--before", "2026-06-01") == 0
    out = capsys.readouterr().out
    assert f"left session {first} for a later purge: it ended less than an hour ago" in out
    assert "nothing to purge" not in out
    with db.transaction() as s:
        s.execute(
            update(ListeningSession)
            .where(col(ListeningSession.id) == first)
            .values(ended_at=ended_at)
        )
    assert _run("purge", "--before", "2026-06-01") == 0
    assert "purged 1 session(s)" in capsys.readouterr().out
    assert rows_holding(db, PERSON, EMAIL) == {}
    assert _reports(tmp_path, "after") == before


MAYOR = "Mayor"  # a role no generated person has


def _add_mayors(db: Database, session_id: int, how_many: int) -> None:
    """Mayors checked in to a session, each answering its first named poll (Agree, Disagree…)."""
    at = datetime(2026, 3, 2, 18, 40, tzinfo=UTC)
    with db.transaction() as s:
        poll = next(p for p in polls_of(s, session_ids=[session_id]) if not p.anonymous)
        assert poll.id is not None
        for i in range(how_many):
            user = f"UMAYOR{session_id}{i}"
            repo.check_in(
                s,
                session_id=session_id,
                user_id=user,
                role=MAYOR,
                place="Redcar",
                group_name="CLP",
                consent_to_quote=False,
                now=at,
            )
            s.add(PollVoter(poll_id=poll.id, user_id=user))
            s.flush()
            s.add(PollVote(poll_id=poll.id, user_id=user, option_index=i % 2))
        s.flush()


def _md_row(md: str, name: str) -> list[str] | None:
    """The cells after the first of the first Markdown table row named `name`, if any."""
    for line in md.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] == name:
            return cells[1:]
    return None


def _mayors(md: str) -> tuple[list[str] | None, list[str] | None]:
    """The Mayor row of the attendance, and of the by-role table of the first named poll."""
    attendance = md.split("## Attendance", 1)[1].split("## Poll results", 1)[0]
    roles = [part.split("By session", 1)[0] for part in md.split("By role")[1:]]
    rows = [row for part in roles if (row := _md_row(part, MAYOR)) is not None]
    return _md_row(attendance, MAYOR), rows[0] if rows else None


def test_small_groups_are_merged_per_session_before_a_purge_stores_them(
    tour: tuple[Database, Facts], tmp_path: Path
) -> None:
    """One Mayor in the first session, whom its figures hide; five in the second, shown: the
    tour report's Mayors are the second session's five, before and after the purge, and no
    row the purge stores holds a small group."""
    db, facts = tour
    first, second, _ = facts.session_ids
    _add_mayors(db, first, 1)
    _add_mayors(db, second, 5)

    def reports(name: str) -> dict[tuple[int, ...], str]:
        return _chosen_reports(tmp_path, name, [(), (first,), (second,), (first, second)])

    before = reports("before")
    assert _run("report", "--out", str(tmp_path / "before.html")) == 0
    alone, shown = _mayors(before[(first,)]), _mayors(before[(second,)])
    assert alone == (None, None)  # in the first session's small groups: no row of its own
    assert shown[0] == ["5"]
    assert shown[1] is not None
    assert shown[1][0] == "5"
    # The tour's Mayors are the sum of what each session shows: nothing to subtract.
    for choice in ((), (first, second)):
        assert _mayors(before[choice]) == shown
        assert "| In small groups | not shown |" in before[choice]

    assert _run("purge", "--before", "2026-06-01") == 0
    with db.read() as s:
        stored = s.exec(select(PollBreakdown)).all()
    assert {row.session_id for row in stored} == set(facts.session_ids)
    small = [
        row
        for row in stored
        if row.dimension != ELSEWHERE and 0 < row.people < 5 and row.value != SMALL_GROUPS
    ]
    assert small == []
    assert MAYOR in {row.value for row in stored if row.session_id == second}
    assert MAYOR not in {row.value for row in stored if row.session_id == first}
    assert reports("after") == before
    assert _run("report", "--out", str(tmp_path / "after.html")) == 0
    assert (tmp_path / "after.html").read_text() == (tmp_path / "before.html").read_text()
