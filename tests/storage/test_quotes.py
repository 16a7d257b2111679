"""Withdrawn quotes and the posts kept for editing them, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import text

from storage import rooms, summaries
from storage.db import Database, create_db_engine
from storage.migrate import upgrade
from storage.rooms import NewQuote
from tests.harness.tour_data import add_report_backs
from tests.storage.sessions import T0, start_session


def _room_with_two_versions(db: Database) -> tuple[list[int], list[int]]:
    """A room that reported twice, both versions quoting "Buses"; (version ids, quote ids)."""
    session_id = start_session(db, channel="C1", user="U1", title="Durham")
    quotes = [
        NewQuote("Buses  are late", "Member", "Durham", True),
        NewQuote("Other", None, None, True),
    ]
    add_report_backs(db, session_id=session_id, reports=[("v1", [], quotes, [])], now=T0)
    with db.transaction() as s:
        [room] = rooms.rooms_of(s, round_id=1)
        assert room.id is not None
        again = [NewQuote("Buses are late", "Member", "Durham", True)]
        rooms.add_report(
            s,
            room_id=room.id,
            submitted_by="U2",
            now=T0,
            summary="v2",
            key_points=[],
            quotes=again,
            theme_ids=[],
        )
        versions = [v.id for v in rooms.report_versions(s, room_id=room.id) if v.id]
        ids = [
            q.id for v in versions for q in rooms.report_quotes(s, report_id=v) if q.id is not None
        ]
    return versions, ids


def test_a_quote_is_found_in_every_version_and_withdrawn_once(database: Database) -> None:
    versions, (first, other, second) = _room_with_two_versions(database)
    with database.transaction() as s:
        quote = rooms.get_quote(s, quote_id=second)
        assert quote is not None
        copies = rooms.same_quote_in_versions(s, quote=quote)
        assert [c.id for c in copies] == [first, second]  # same words, spaces aside
        assert {c.report_id for c in copies} == set(versions)
        assert rooms.withdraw_quotes(s, quote_ids=[first, second], now=T0, by="organiser") == 2
    with database.transaction() as s:
        # compare-and-set: a second withdrawal changes nothing
        assert rooms.withdraw_quotes(s, quote_ids=[first, second], now=T0, by="facilitator") == 0
    with database.read() as s:
        withdrawn = [rooms.get_quote(s, quote_id=i) for i in (first, second)]
        kept = rooms.get_quote(s, quote_id=other)
    for quote in withdrawn:
        assert quote is not None
        assert (quote.text, quote.speaker_role, quote.speaker_place) == ("", None, None)
        assert (quote.withdrawn_at, quote.withdrawn_by) == (T0, "organiser")
        assert not quote.shown
    assert kept is not None
    assert kept.shown
    assert kept.text == "Other"


def test_upgrading_keeps_the_messages_of_summaries_already_posted(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade(engine, "0014")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO listening_session (id, channel_id, title, started_by,"
                    " started_at, ended_at) VALUES (1, 'C1', 'Old', 'U1', :t0, :t0)"
                ),
                {"t0": T0.replace(tzinfo=None)},
            )
            for key, kind, progress in [
                (
                    "session:1:summary",
                    "summary.final",
                    {"C1:messages": ["1.1", "1.2"], "C1:done": True, "C9:messages": ["9.1"]},
                ),
                ("session:1:interim:abc", "summary.interim", {"C1:messages": ["2.1"]}),
                ("session:1:post", "session.post", {"C1:messages": ["3.1"]}),  # not a summary
            ]:
                connection.execute(
                    text(
                        "INSERT INTO outbox (key, kind, target, priority, args, created_at,"
                        " due_at, attempts, progress) VALUES (:key, :kind, 'session:1', 1,"
                        " :args, :t0, :t0, 0, :progress)"
                    ),
                    {
                        "key": key,
                        "kind": kind,
                        "args": json.dumps({"session_id": 1}),
                        "t0": T0.replace(tzinfo=None),
                        "progress": json.dumps(progress),
                    },
                )
        upgrade(engine)
        db = Database(database_url)
        try:
            with db.read() as s:
                posts = summaries.summary_posts(s, session_id=1)
        finally:
            db.dispose()
    finally:
        engine.dispose()
    assert [(p.summary_key, p.interim, p.channel, p.part, p.ts) for p in posts] == [
        ("session:1:interim:abc", True, "C1", 1, "2.1"),
        ("session:1:summary", False, "C1", 1, "1.1"),
        ("session:1:summary", False, "C1", 2, "1.2"),
        ("session:1:summary", False, "C9", 1, "9.1"),
    ]
    assert all(p.built_at == T0 for p in posts)
