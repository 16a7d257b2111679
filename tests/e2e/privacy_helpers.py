"""A tour with one person who left data everywhere: check-ins, named and anonymous votes, a
room, a report-back, a note in a room's thread, Zoom presence and poll answers, a Slack email,
posts naming them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import String, Table, func, select, update
from sqlmodel import SQLModel, col

import storage.tables  # noqa: F401  (every table on the metadata)
from bot.outbox import queue_all
from bot.report.aggregate import build_report
from bot.report.collect import collect
from bot.report.model import TourReport
from bot.rooms.effects import member_changes
from storage import repository as repo
from storage.db import Database
from storage.outbox import OutboxRow, mark_sent
from storage.polls import PollOption, PollVote, PollVoter
from storage.report import SessionFilter, polls_of
from storage.rooms import (
    add_member,
    add_note,
    add_report,
    latest_round,
    rooms_of,
    set_room_message,
)
from storage.zoom.people import FROM_WEBHOOKS, ZoomPerson, record_slack_email
from storage.zoom.polls import CREATED, AnswerRow, add_zoom_poll, save_answers
from storage.zoom.presence import Sighting, apply_sighting
from tests.harness.tour_data import generate_tour

PERSON = "UPERSON001"
EMAIL = "Pat.Person@Example.org"
NAME = "Pat Personsworth"
START = datetime(2026, 3, 2, 18, tzinfo=UTC)  # three weekly sessions, long before "now"


@dataclass
class Facts:
    """What the person left, to check exports and erasures against."""

    session_ids: list[int]
    named_votes: int
    anonymous_votes: int
    room: tuple[int, int]  # (round id, room id)
    zoom_id: str  # their Zoom-only id in the session they joined only in Zoom


def build_tour(db: Database) -> Facts:
    """Three sessions of twelve people each, plus the person (see the module docstring)."""
    truth = generate_tour(db, sessions=3, people=12, polls=4, report_backs=6, seed=3, start=START)
    first, second, third = truth.session_ids
    at = START + timedelta(minutes=30)
    named = anonymous = 0
    with db.transaction() as s:
        record_slack_email(s, user_id=PERSON, email=EMAIL, now=at)
        for sid in (first, second):
            repo.check_in(
                s,
                session_id=sid,
                user_id=PERSON,
                role="Councillor",
                place="Redcar",
                group_name="Branch",
                consent_to_quote=True,
                now=at,
            )
            for poll in polls_of(s, session_ids=[sid]):
                assert poll.id is not None
                s.add(PollVoter(poll_id=poll.id, user_id=PERSON))
                s.flush()
                if poll.anonymous:
                    s.execute(
                        update(PollOption)
                        .where(
                            col(PollOption.poll_id) == poll.id, col(PollOption.option_index) == 0
                        )
                        .values(anonymous_count=PollOption.anonymous_count + 1)
                    )
                    anonymous += 1
                else:
                    s.add(PollVote(poll_id=poll.id, user_id=PERSON, option_index=0))
                    named += 1
            s.flush()
        round_ = latest_round(s, session_id=first)
        assert round_ is not None
        assert round_.id is not None
        room = rooms_of(s, round_id=round_.id)[0]
        assert room.id is not None
        set_room_message(s, room_id=room.id, message_ts="1767000000.000100")
        add_member(
            s,
            round_id=round_.id,
            room_id=room.id,
            user_id=PERSON,
            facilitator=False,
            now=at,
            how="late",
        )
        add_report(
            s,
            room_id=room.id,
            submitted_by=PERSON,
            now=at,
            summary="Buses every hour are not enough.",
            key_points=["Buses"],
            quotes=[],
            theme_ids=[],
        )
        # Zoom: the same person in the first session (matched to Slack by email), and in the
        # third only in Zoom, where they answered a named poll.
        for sid, identity in ((first, "pat-uuid-1"), (third, "pat-uuid-3")):
            sighting = Sighting(identity=identity, name=NAME, email=EMAIL, joined_at=at)
            apply_sighting(s, session_id=sid, sighting=sighting, source=FROM_WEBHOOKS, now=at)
        zoom_id = str(
            s.execute(
                select(col(ZoomPerson.user_id)).where(col(ZoomPerson.session_id) == third)
            ).scalar_one()
        )
        third_poll = next(p for p in polls_of(s, session_ids=[third]) if not p.anonymous)
        assert third_poll.id is not None
        add_zoom_poll(
            s,
            poll_id=third_poll.id,
            session_id=third,
            meeting_id="8812345678",
            now=at,
            status=CREATED,
        )
        save_answers(
            s,
            poll_id=third_poll.id,
            rows=[AnswerRow(user_id=zoom_id, option_index=1)],
            added=1,
            duplicates=0,
            now=at,
        )
        # The "moved here" note posted in the room's thread (they moved themselves).
        add_note(
            s,
            round_id=round_.id,
            room_id=room.id,
            user_id=PERSON,
            moved_by=PERSON,
            from_room_id=None,
            to_room_id=room.id,
            ts="1767000000.000200",
        )
        # Posts naming them: a late arrival's notices (one sent, the rest still queued).
        queue_all(
            s,
            member_changes(change="late:1", round_id=round_.id, user_id=PERSON, to_room_id=room.id),
            now=at,
        )
        told = s.execute(
            select(col(OutboxRow.id)).where(col(OutboxRow.target) == f"user:{PERSON}")
        ).scalar_one()
        mark_sent(s, ids=[told], now=at)
    return Facts(
        session_ids=truth.session_ids,
        named_votes=named,
        anonymous_votes=anonymous,
        room=(round_.id, room.id),
        zoom_id=zoom_id,
    )


def text_columns() -> Iterator[tuple[Table, str]]:
    """Every text column of every table."""
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String):
                yield table, column.name


def rows_holding(db: Database, *needles: str) -> dict[str, int]:
    """How many rows of each table hold any of `needles` in any text column (any case)."""
    found: dict[str, int] = {}
    with db.read() as s:
        for table, name in text_columns():
            column = table.c[name]
            for needle in needles:
                count = s.execute(
                    select(func.count())
                    .select_from(table)
                    .where(func.lower(column).contains(needle.lower(), autoescape=True))
                ).scalar_one()
                if count:
                    found[f"{table.name}.{name}"] = found.get(f"{table.name}.{name}", 0) + count
    return found


def tour_report(db: Database) -> TourReport:
    """The tour report of every session, as `listening-bot report` builds it."""
    return build_report(collect(db, SessionFilter()), generated_at=START)
