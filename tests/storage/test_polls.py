"""Poll repository functions on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from storage import outbox
from storage import polls as store
from storage import repository as repo
from storage.db import Database
from storage.models import Participant
from storage.polls import Poll, PollOption, PollVote, PollVoter, Tally
from tests.harness.waiting import eventually
from tests.storage.history import postgres_row_versions, sqlite_commits
from tests.storage.sessions import T0, start_session


def _session(db: Database, channel: str = "C1") -> int:
    return start_session(db, channel=channel)


def _poll(
    db: Database,
    session_id: int,
    *,
    multi: bool = False,
    anonymous: bool = False,
    minutes: int = 2,
    channel: str = "C1",
    created: datetime = T0,
) -> Poll:
    with db.transaction() as s:
        return store.create_poll(
            s,
            session_id=session_id,
            channel_id=channel,
            key="strike",
            question="Back the strike?",
            options=["Yes", "No", "Not sure"],
            multi=multi,
            anonymous=anonymous,
            hide_results=False,
            created_by="U1",
            now=created,
            closes_at=created + timedelta(minutes=minutes),
        )


def _tally(db: Database, poll: Poll) -> Tally:
    with db.read() as s:
        return store.tally(s, poll=poll)


def test_create_and_read_a_poll(database: Database) -> None:
    poll = _poll(database, _session(database))
    assert poll.id is not None
    with database.read() as s:
        assert store.poll_options(s, poll_id=poll.id) == ["Yes", "No", "Not sure"]
        target = store.vote_target(s, poll_id=poll.id, user_id="U2")
        assert store.vote_target(s, poll_id=poll.id + 1, user_id="U2") is None
    assert target is not None
    assert (target.option_count, target.multi, target.closes_at) == (3, False, poll.closes_at)
    assert _tally(database, poll) == Tally((0, 0, 0), 0)


def test_single_choice_replaces_and_multi_choice_toggles(database: Database) -> None:
    session_id = _session(database)
    single, multi = _poll(database, session_id), _poll(database, session_id, multi=True)
    assert single.id is not None
    assert multi.id is not None
    with database.transaction() as s:
        assert store.choose(s, poll_id=single.id, user_id="U2", option_index=0) == (0,)
        assert store.choose(s, poll_id=single.id, user_id="U2", option_index=2) == (2,)
        assert store.choose(s, poll_id=single.id, user_id="U3", option_index=2) == (2,)
        assert store.toggle(s, poll_id=multi.id, user_id="U2", option_index=0) == (0,)
        assert store.toggle(s, poll_id=multi.id, user_id="U2", option_index=1) == (0, 1)
        assert store.toggle(s, poll_id=multi.id, user_id="U2", option_index=0) == (1,)
        assert store.toggle(s, poll_id=multi.id, user_id="U3", option_index=1) == (1,)
        assert store.toggle(s, poll_id=multi.id, user_id="U4", option_index=2) == (2,)
        assert store.toggle(s, poll_id=multi.id, user_id="U4", option_index=2) == ()
    assert _tally(database, single) == Tally((0, 0, 2), 2)
    # U4 took their only choice back, so they no longer count as a voter.
    assert _tally(database, multi) == Tally((0, 2, 0), 2)


def test_anonymous_votes_are_counted_once_and_never_stored_per_person(
    database: Database,
) -> None:
    poll = _poll(database, _session(database), anonymous=True, multi=True)
    assert poll.id is not None
    with database.transaction() as s:
        assert store.cast_anonymous(s, poll_id=poll.id, user_id="U2", option_indexes=[0, 2])
        assert store.cast_anonymous(s, poll_id=poll.id, user_id="U3", option_indexes=[2, 2])
        assert not store.cast_anonymous(s, poll_id=poll.id, user_id="U2", option_indexes=[1])
    assert _tally(database, poll) == Tally((1, 0, 2), 2)
    with database.read() as s:
        assert s.exec(text("SELECT count(*) FROM poll_vote")).one()[0] == 0  # type: ignore[call-overload]
        assert store.has_voted(s, poll_id=poll.id, user_id="U3")
        assert not store.has_voted(s, poll_id=poll.id, user_id="U9")


def test_closing_is_a_compare_and_set(database: Database) -> None:
    poll = _poll(database, _session(database))
    assert poll.id is not None
    with database.transaction() as s:
        assert store.close_poll(s, poll_id=poll.id, now=T0, reason="command", closed_by="U1")
        assert not store.close_poll(s, poll_id=poll.id, now=T0, reason="deadline", closed_by=None)
    with database.read() as s:
        closed = store.get_poll(s, poll_id=poll.id)
        assert closed is not None
        assert (closed.close_reason, closed.closed_by) == ("command", "U1")
        assert store.unannounced_polls(s) == [closed]
    with database.transaction() as s:
        store.mark_announced(s, poll_id=poll.id, now=T0)
    with database.read() as s:
        assert store.unannounced_polls(s) == []


def test_racing_closes_leave_one_winner(database: Database) -> None:
    poll = _poll(database, _session(database))
    assert poll.id is not None
    wins: list[bool] = []
    barrier = threading.Barrier(6)

    def close() -> None:
        barrier.wait()
        with database.transaction() as s:
            wins.append(
                store.close_poll(s, poll_id=poll.id or 0, now=T0, reason="deadline", closed_by=None)
            )

    threads = [threading.Thread(target=close) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 5 + [True]


def test_overdue_and_open_polls(database: Database) -> None:
    first = _session(database)
    due = _poll(database, first, minutes=1)
    later = _poll(database, first, minutes=60)
    ended = _session(database, channel="C2")
    in_ended = _poll(database, ended, minutes=60, channel="C2")
    with database.transaction() as s:
        repo.end_session(s, session_id=ended, ended_by="U1", now=T0)
    with database.read() as s:
        overdue = store.overdue_polls(s, now=T0 + timedelta(minutes=5))
        assert [(p.id, reason) for p, reason in overdue] == [
            (due.id, "deadline"),
            (in_ended.id, "session_end"),
        ]
        assert [p.id for p in store.open_polls(s, session_id=first)] == [due.id, later.id]
        newest = store.newest_open_poll(s, channel_id="C1")
        assert newest is not None
        assert newest.id == later.id


def test_voters_are_added_as_participants_without_attributes(database: Database) -> None:
    session_id = _session(database)
    poll = _poll(database, session_id)
    assert poll.id is not None

    def status(user: str) -> bool | None:
        with database.read() as s:
            target = store.vote_target(s, poll_id=poll.id or 0, user_id=user)
        assert target is not None
        return target.participant

    assert status("U7") is None
    with database.transaction() as s:
        store.add_participant(s, session_id=session_id, user_id="U7", now=T0)
        store.add_participant(s, session_id=session_id, user_id="U7", now=T0)  # no error
        repo.check_in(
            s,
            session_id=session_id,
            user_id="U8",
            role="Member",
            place=None,
            group_name=None,
            consent_to_quote=False,
            now=T0,
        )
        store.add_participant(s, session_id=session_id, user_id="U8", now=T0)
    assert (status("U7"), status("U8")) == (False, True)
    with database.read() as s:
        people = {p.user_id: p for p in s.exec(select(Participant)).all()}
    assert people["U7"].checked_in_at is None
    assert people["U7"].role is None
    assert people["U8"].role == "Member"  # a vote never overwrites a check-in


def test_a_delivery_is_claimed_once(database: Database) -> None:
    with database.transaction() as s:
        assert store.claim_delivery(s, key="block_actions:1", now=T0)
        assert not store.claim_delivery(s, key="block_actions:1", now=T0)
        assert store.claim_delivery(s, key=None, now=T0)  # nothing to recognise it by
    with database.read() as s:
        assert repo.delivery_seen(s, key="block_actions:1")


def test_one_persons_racing_clicks_leave_one_choice(database: Database) -> None:
    """Two clicks by the same person at once on a single-choice poll: one of them wins."""
    poll = _poll(database, _session(database))
    assert poll.id is not None
    barrier = threading.Barrier(8)

    def click(index: int) -> None:
        barrier.wait()
        with database.transaction() as s:
            store.choose(s, poll_id=poll.id or 0, user_id="U2", option_index=index % 3)

    threads = [threading.Thread(target=click, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.read() as s:
        rows = s.exec(select(PollVote).where(PollVote.poll_id == poll.id)).all()
    assert len(rows) == 1
    assert _tally(database, poll).voters == 1


def test_deleting_a_poll_removes_everything_about_it(database: Database) -> None:
    poll = _poll(database, _session(database))
    assert poll.id is not None
    with database.transaction() as s:
        store.choose(s, poll_id=poll.id, user_id="U2", option_index=1)
    with database.transaction() as s:
        store.delete_poll(s, poll_id=poll.id)
    with database.read() as s:
        for table in (Poll, PollOption, PollVoter, PollVote):
            assert s.exec(select(table)).all() == [], table


@pytest.mark.postgres
def test_closing_hides_which_transaction_last_counted_a_vote(postgres_database: Database) -> None:
    """On PostgreSQL each row version names its transaction: closing rewrites the counters."""
    poll = _poll(postgres_database, _session(postgres_database), anonymous=True)
    assert poll.id is not None
    with postgres_database.transaction() as s:
        store.cast_anonymous(s, poll_id=poll.id, user_id="U2", option_indexes=[1])

    def xmins() -> tuple[set[str], set[str]]:
        with postgres_database.read() as s:
            voter = {r[0] for r in s.exec(text("SELECT xmin::text FROM poll_voter")).all()}  # type: ignore[call-overload]
            option = {r[0] for r in s.exec(text("SELECT xmin::text FROM poll_option")).all()}  # type: ignore[call-overload]
        return voter, option

    voter, option = xmins()
    assert voter & option  # while open, the counter still shows who touched it last
    with postgres_database.transaction() as s:
        store.close_poll(s, poll_id=poll.id, now=T0, reason="deadline", closed_by=None)
    voter, option = xmins()
    assert not voter & option
    assert len(option) == 1  # every counter now carries the closing transaction


# ---------------------------------------------------------------------------
# anonymous ballots leave no history in the database's files

ANONYMOUS_CHOICES = {"U2": 0, "U3": 2, "U4": 1}


def _cast_one_by_one(database: Database, poll: Poll) -> None:
    """Each anonymous voter in a transaction of their own, as clicks spread out in time come."""
    assert poll.id is not None
    for user, index in ANONYMOUS_CHOICES.items():
        with database.transaction() as s:
            assert store.cast_anonymous(s, poll_id=poll.id, user_id=user, option_indexes=[index])


def _close(database: Database, poll: Poll) -> None:
    assert poll.id is not None
    with database.transaction() as s:
        assert store.close_poll(s, poll_id=poll.id, now=T0, reason="deadline", closed_by=None)


def _forget_history(database: Database) -> None:
    """Forget the anonymous history as the bot does: again later while it is held (PostgreSQL
    keeps it while any older transaction on the server, such as another test's, runs)."""
    eventually(
        lambda: store.forget_anonymous_history(database),
        timeout=10,
        what="no older transaction holding the history",
    )


def _voters_and_counts(connection: sqlite3.Connection) -> tuple[frozenset[str], tuple[int, ...]]:
    voters = frozenset(u for (u,) in connection.execute("SELECT user_id FROM poll_voter"))
    counts = tuple(
        c for (c,) in connection.execute("SELECT anonymous_count FROM poll_option ORDER BY 1")
    )
    return voters, counts


def test_sqlite_keeps_no_replayable_commits_of_a_closed_anonymous_poll(
    sqlite_database: Database, sqlite_url: str
) -> None:
    poll = _poll(sqlite_database, _session(sqlite_database), anonymous=True)
    _cast_one_by_one(sqlite_database, poll)
    _close(sqlite_database, poll)
    db_file = Path(sqlite_url.removeprefix("sqlite:///"))
    before = sqlite_commits(db_file, _voters_and_counts)
    # The write-ahead log holds a state after each vote: one voter more, one count more.
    assert len(before) >= len(ANONYMOUS_CHOICES) + 1

    assert store.forget_anonymous_history(sqlite_database)

    assert Path(f"{db_file}-wal").stat().st_size == 0
    after = sqlite_commits(db_file, _voters_and_counts)
    assert after == [(frozenset(ANONYMOUS_CHOICES), (1, 1, 1))]  # the final totals, nothing else


@pytest.mark.postgres
def test_postgres_keeps_no_old_counter_versions_of_a_closed_anonymous_poll(
    postgres_database: Database,
) -> None:
    poll = _poll(postgres_database, _session(postgres_database), anonymous=True)
    _cast_one_by_one(postgres_database, poll)
    _close(postgres_database, poll)
    with postgres_database.read() as s:
        voter_transactions = {
            xmin
            for (xmin,) in s.exec(text("SELECT xmin::text FROM poll_voter")).all()  # type: ignore[call-overload]
        }
    assert len(voter_transactions) == len(ANONYMOUS_CHOICES)
    before = postgres_row_versions(postgres_database, "poll_option")
    # Old counter versions, each written by one voter's transaction, are still on disk.
    assert {xmin for xmin, _ in before} & voter_transactions

    _forget_history(postgres_database)

    after = postgres_row_versions(postgres_database, "poll_option")
    assert not {xmin for xmin, _ in after} & voter_transactions
    assert len(after) == 3  # one version per option: the closed totals
    assert _tally(postgres_database, poll) == Tally((1, 1, 1), 3)


def test_a_deleted_outbox_row_leaves_no_trace_once_history_is_forgotten(
    database: Database,
) -> None:
    """An anonymous vote's confirmation names the voter and the choice until it is sent and
    deleted; after that and `forget_anonymous_history`, no version of it is left anywhere."""
    secret = b"U0SECRETVOTER"
    with database.transaction() as s:
        outbox.enqueue(
            s,
            key="vote:block_actions:1234.5678",
            kind="poll.voted.anonymous",
            target="user:U0SECRETVOTER",
            priority=0,
            args={"poll_id": 1, "user_id": "U0SECRETVOTER", "chosen": "2"},
            now=T0,
        )
    with database.transaction() as s:
        [row] = outbox.rows(s)
        assert row.id is not None
        # A failed try first: one more version of the row.
        outbox.retry_later(s, row_id=row.id, due_at=T0 + timedelta(seconds=1), error="ratelimited")
    with database.transaction() as s:
        outbox.delete_rows(s, ids=[row.id])

    _forget_history(database)

    if database.is_sqlite:
        db_file = Path(str(database.engine.url.database))
        wal = Path(f"{db_file}-wal")
        assert secret not in db_file.read_bytes()
        assert not wal.exists() or secret not in wal.read_bytes()
    else:
        assert not [data for _, data in postgres_row_versions(database, "outbox") if secret in data]


@pytest.mark.postgres
def test_postgres_history_is_kept_while_an_older_snapshot_may_read_it(
    postgres_database: Database,
) -> None:
    """VACUUM keeps row versions an open transaction can still see: say so, try again later."""
    poll = _poll(postgres_database, _session(postgres_database), anonymous=True)
    _cast_one_by_one(postgres_database, poll)
    with postgres_database.read() as s:
        voters = {x for (x,) in s.exec(text("SELECT xmin::text FROM poll_voter")).all()}  # type: ignore[call-overload]
    with (
        postgres_database.engine.connect() as reader
    ):  # e.g. an export or a backup, started earlier
        reader.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        # Its snapshot, taken on another table, holds no lock on the counters' table.
        reader.exec_driver_sql("SELECT count(*) FROM poll_voter").scalar_one()
        _close(postgres_database, poll)
        assert not store.forget_anonymous_history(postgres_database)
        assert {x for x, _ in postgres_row_versions(postgres_database, "poll_option")} & voters
    _forget_history(postgres_database)
    assert not {x for x, _ in postgres_row_versions(postgres_database, "poll_option")} & voters


@pytest.mark.postgres
def test_postgres_history_is_kept_while_an_older_writer_in_another_database_runs(
    postgres_database: Database, postgres_server: str
) -> None:
    """VACUUM FULL keeps what its own snapshot may see, and a snapshot counts the writers of
    every database on the server: one that began earlier elsewhere holds the history too."""
    poll = _poll(postgres_database, _session(postgres_database), anonymous=True)
    _cast_one_by_one(postgres_database, poll)
    with postgres_database.read() as s:
        voters = {x for (x,) in s.exec(text("SELECT xmin::text FROM poll_voter")).all()}  # type: ignore[call-overload]
    elsewhere = create_engine(postgres_server)  # the server's `test` database, not the bot's
    try:
        with elsewhere.connect() as writer:
            writer.exec_driver_sql("SELECT pg_current_xact_id()")  # it has a transaction id
            _close(postgres_database, poll)
            assert not store.forget_anonymous_history(postgres_database)
            assert {x for x, _ in postgres_row_versions(postgres_database, "poll_option")} & voters
    finally:
        elsewhere.dispose()
    _forget_history(postgres_database)
    assert not {x for x, _ in postgres_row_versions(postgres_database, "poll_option")} & voters


def test_forgetting_history_gives_up_while_an_old_snapshot_is_read_on_sqlite(
    sqlite_database: Database, sqlite_url: str
) -> None:
    poll = _poll(sqlite_database, _session(sqlite_database), anonymous=True)
    reader = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM poll_voter").fetchone()  # holds this snapshot
        _cast_one_by_one(sqlite_database, poll)
        assert not sqlite_database.forget_history(["poll_option"], wait_ms=50)
        reader.execute("COMMIT")
        assert sqlite_database.forget_history(["poll_option"], wait_ms=50)
    finally:
        reader.close()


@pytest.mark.postgres
def test_forgetting_history_gives_up_while_the_table_is_in_use_on_postgres(
    postgres_database: Database,
) -> None:
    poll = _poll(postgres_database, _session(postgres_database), anonymous=True)
    with postgres_database.transaction() as s:
        s.exec(select(PollOption)).all()  # an open transaction holds a lock on the table
        assert not postgres_database.forget_history(["poll_option"], wait_ms=50)
    eventually(
        lambda: postgres_database.forget_history(["poll_option"], wait_ms=50),
        what="the table free again",
    )
    assert _tally(postgres_database, poll) == Tally((0, 0, 0), 0)
