"""Quote lineage: each version's copy of a quote records what it was copied from, so a quote's
family is found whatever the reporter edited; quotes without a link (stored before migration
0018) are still matched by their text. On a real SQLite file and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect
from sqlmodel import select

from storage import repository as repo
from storage import rooms
from storage.db import Database, create_db_engine
from storage.migrate import alembic_config, upgrade
from storage.rooms import NewQuote, ReportQuote
from tests.harness.tour_data import add_report_backs
from tests.storage.sessions import T0, start_session

TYPO = "The last bus is at 7pm and I walk home in the dark"
FIXED = "The last bus is at 7pm, and I walk home in the dark."


def _version(db: Database, room_id: int, quotes: list[NewQuote]) -> list[ReportQuote]:
    """A new version of the room's report-back with these quotes; its quotes as stored."""
    with db.transaction() as s:
        report = rooms.add_report(
            s,
            room_id=room_id,
            submitted_by="U2",
            now=T0,
            summary="again",
            key_points=[],
            quotes=quotes,
            theme_ids=[],
        )
        assert report.id is not None
        return rooms.report_quotes(s, report_id=report.id)


def _two_rooms(db: Database, first: list[NewQuote]) -> tuple[int, int, list[ReportQuote]]:
    """(room 1, room 2, room 1's version 1 quotes); room 2 quotes nothing."""
    session_id = start_session(db, channel="C1", user="U1", title="Durham")
    add_report_backs(
        db, session_id=session_id, reports=[("v1", [], first, []), ("v1", [], [], [])], now=T0
    )
    with db.read() as s:
        one, two = rooms.rooms_of(s, round_id=1)
        assert one.id is not None
        assert two.id is not None
        latest = rooms.latest_report(s, room_id=one.id)
        assert latest is not None
        assert latest.id is not None
        return one.id, two.id, rooms.report_quotes(s, report_id=latest.id)


def _family(db: Database, quote_id: int | None) -> list[int | None]:
    assert quote_id is not None
    with db.read() as s:
        quote = rooms.get_quote(s, quote_id=quote_id)
        assert quote is not None
        return [q.id for q in rooms.same_quote_in_versions(s, quote=quote)]


def test_an_edited_copy_is_in_the_family_both_ways(database: Database) -> None:
    room, _, (typo, other) = _two_rooms(
        database, [NewQuote(TYPO, "Member", "Durham", True), NewQuote("Other", None, None, True)]
    )
    fixed, kept = _version(
        database,
        room,
        [
            NewQuote(FIXED, "Member", "Durham", True, copied_from=typo.id),
            NewQuote("Other", None, None, True, copied_from=other.id),
        ],
    )
    assert (fixed.copied_from, kept.copied_from) == (typo.id, other.id)
    # version 3 copies the fixed one again, and its consent is taken back (still family)
    [third] = _version(database, room, [NewQuote(FIXED, "Member", None, False, fixed.id)])
    family = [typo.id, fixed.id, third.id]
    assert _family(database, typo.id) == family  # oldest version first
    assert _family(database, fixed.id) == family
    assert _family(database, third.id) == family
    assert _family(database, other.id) == [other.id, kept.id]


def test_quotes_without_a_link_are_matched_by_their_text(database: Database) -> None:
    room, _, (old, other) = _two_rooms(
        database,
        [NewQuote("Buses  are late", "Member", None, True), NewQuote("Other", None, None, True)],
    )
    # version 2 as stored before lineage was kept: same words, no link
    [unlinked] = _version(database, room, [NewQuote("Buses are late", "Member", None, True)])
    assert unlinked.copied_from is None
    # version 3 fixes the full stop, linked to version 2
    [linked] = _version(
        database, room, [NewQuote("Buses are late.", "Member", None, True, unlinked.id)]
    )
    family = [old.id, unlinked.id, linked.id]
    assert _family(database, old.id) == family
    assert _family(database, linked.id) == family
    assert other.id not in family


def test_a_copy_of_another_room_s_quote_or_of_a_withdrawn_one(database: Database) -> None:
    room, elsewhere, (quote, gone) = _two_rooms(
        database, [NewQuote(TYPO, "Member", None, True), NewQuote("Gone", "Member", None, True)]
    )
    with database.transaction() as s:
        assert rooms.withdraw_quotes(s, quote_ids=[gone.id or 0], now=T0, by="reporter") == 1
    # a form made for room 1 saved for room 2 (a facilitator's choice): room 2's quote is new
    [foreign] = _version(database, elsewhere, [NewQuote(FIXED, "Member", None, True, quote.id)])
    assert foreign.copied_from is None
    assert _family(database, quote.id) == [quote.id]
    # a quote withdrawn while the form was open: its copy is withdrawn too, its text not kept
    [copy] = _version(database, room, [NewQuote("Gone!", "Member", "Durham", True, gone.id)])
    assert copy.copied_from == gone.id
    assert (copy.text, copy.speaker_role, copy.speaker_place) == ("", None, None)
    assert (copy.withdrawn_at, copy.withdrawn_by) == (T0, "reporter")
    assert not copy.shown


def test_0018_adds_the_link_and_drops_it_again(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        upgrade(engine)
        db = Database(database_url)
        try:
            room, _, (first,) = _two_rooms(db, [NewQuote(TYPO, "Member", None, True)])
            [copy] = _version(db, room, [NewQuote(FIXED, "Member", None, True, first.id)])
            [same] = _version(db, room, [NewQuote(FIXED, "Member", None, True, copy.id)])
        finally:
            db.dispose()
        command.downgrade(alembic_config(engine), "0017")
        columns = {c["name"] for c in inspect(engine).get_columns("report_quote")}
        assert "copied_from" not in columns
        assert {"text", "withdrawn_at"} <= columns
        upgrade(engine)
        found = inspect(engine)
        [link] = [c for c in found.get_columns("report_quote") if c["name"] == "copied_from"]
        assert link["nullable"]
        assert any(
            fk["referred_table"] == "report_quote" and fk["constrained_columns"] == ["copied_from"]
            for fk in found.get_foreign_keys("report_quote")
        )
        db = Database(database_url)
        try:
            with db.read() as s:
                rows = [rooms.get_quote(s, quote_id=q.id or 0) for q in (first, copy, same)]
            assert [(q.text, q.copied_from) for q in rows if q] == [
                (TYPO, None),
                (FIXED, None),
                (FIXED, None),
            ]
            # rows from before the migration: the same words still make a family
            assert _family(db, same.id) == [copy.id, same.id]
            assert _family(db, first.id) == [first.id]
        finally:
            db.dispose()
    finally:
        engine.dispose()


def test_a_session_with_linked_quotes_is_deleted_whole(database: Database) -> None:
    room, _, (first,) = _two_rooms(database, [NewQuote(TYPO, "Member", None, True)])
    [copy] = _version(database, room, [NewQuote(FIXED, "Member", None, True, first.id)])
    _version(database, room, [NewQuote(FIXED, "Member", None, True, copy.id)])
    with database.transaction() as s:
        assert repo.delete_session(s, session_id=1) is not None
    with database.read() as s:
        assert s.exec(select(ReportQuote)).all() == []
