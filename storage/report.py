"""Read-only queries behind summaries, exports and the tour report (a few bulk queries each)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from storage.models import ListeningSession, Participant
from storage.polls import Poll, PollOption, PollVote, PollVoter
from storage.rooms import (
    BreakoutRoom,
    BreakoutRound,
    ReportBack,
    ReportQuote,
    ReportTheme,
    RoomMember,
    SessionTheme,
)


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a report covers; empty means all.

    `as_of` is for a summary posted earlier and shown again (an interim summary edited when a
    quote is withdrawn): only what the rows' own times put at or before it. Rows without a time
    (votes) are the caller's to judge; None, the default, is everything as it is now.
    """

    since: datetime | None = None
    until: datetime | None = None
    session_ids: tuple[int, ...] = ()
    as_of: datetime | None = None


def find_sessions(db: Session, *, where: SessionFilter) -> list[ListeningSession]:
    """Sessions started in [since, until) and/or with the given ids, oldest first."""
    query = select(ListeningSession).order_by(col(ListeningSession.started_at))
    if where.since is not None:
        query = query.where(col(ListeningSession.started_at) >= where.since)
    if where.until is not None:
        query = query.where(col(ListeningSession.started_at) < where.until)
    if where.session_ids:
        query = query.where(col(ListeningSession.id).in_(where.session_ids))
    return list(db.exec(query).all())


def checked_in_people(
    db: Session, *, session_ids: Sequence[int], as_of: datetime | None = None
) -> list[tuple[int, str, str | None, str | None, str | None]]:
    """(session id, user id, role, place, group) of everyone who checked in to these sessions
    (by `as_of`, when given; their answers are as they are now: no older ones are kept)."""
    query = sa_select(
        col(Participant.session_id),
        col(Participant.user_id),
        col(Participant.role),
        col(Participant.place),
        col(Participant.group_name),
    ).where(
        col(Participant.session_id).in_(session_ids),
        col(Participant.checked_in_at).is_not(None),
    )
    if as_of is not None:
        query = query.where(col(Participant.checked_in_at) <= as_of)
    rows = db.execute(query).all()
    return [tuple(row) for row in rows]


def all_participants(db: Session, *, session_id: int) -> list[Participant]:
    """Everyone recorded in a session, checked in or not."""
    return list(
        db.exec(
            select(Participant)
            .where(Participant.session_id == session_id)
            .order_by(col(Participant.id))
        ).all()
    )


def polls_of(
    db: Session, *, session_ids: Sequence[int], as_of: datetime | None = None
) -> list[Poll]:
    """Polls asked in these sessions (by `as_of`, when given), oldest first."""
    query = select(Poll).where(col(Poll.session_id).in_(session_ids))
    if as_of is not None:
        query = query.where(col(Poll.created_at) <= as_of)
    return list(db.exec(query.order_by(col(Poll.id))).all())


def options_of(db: Session, *, poll_ids: Sequence[int]) -> dict[int, list[PollOption]]:
    """Each poll's options in order."""
    rows = db.exec(
        select(PollOption)
        .where(col(PollOption.poll_id).in_(poll_ids))
        .order_by(col(PollOption.poll_id), col(PollOption.option_index))
    ).all()
    options: dict[int, list[PollOption]] = defaultdict(list)
    for row in rows:
        options[row.poll_id].append(row)
    return options


def named_votes(db: Session, *, poll_ids: Sequence[int]) -> list[tuple[int, str, int]]:
    """(poll id, user id, option index) for named polls; anonymous polls have none."""
    rows = db.exec(
        select(PollVote.poll_id, PollVote.user_id, PollVote.option_index)
        .where(col(PollVote.poll_id).in_(poll_ids))
        .order_by(col(PollVote.poll_id), col(PollVote.user_id), col(PollVote.option_index))
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def voter_counts(db: Session, *, poll_ids: Sequence[int]) -> dict[int, int]:
    """How many people voted in each poll."""
    rows = db.exec(
        select(PollVoter.poll_id, func.count())
        .where(col(PollVoter.poll_id).in_(poll_ids))
        .group_by(col(PollVoter.poll_id))
    ).all()
    return {int(poll_id): int(count) for poll_id, count in rows}


@dataclass(frozen=True)
class RoomReport:
    """One room of a round with its members and every report-back version (oldest first)."""

    round: BreakoutRound
    room: BreakoutRoom
    members: list[RoomMember]
    versions: list[ReportBack]


def rooms_with_reports(
    db: Session,
    *,
    session_ids: Sequence[int],
    with_members: bool = True,
    as_of: datetime | None = None,
) -> list[RoomReport]:
    """Every breakout room of these sessions, with report-back versions (and members if asked).

    With `as_of`: only rounds started and versions submitted by then.
    """
    query = (
        select(BreakoutRound, BreakoutRoom)
        .join(BreakoutRoom, col(BreakoutRoom.round_id) == col(BreakoutRound.id))
        .where(col(BreakoutRound.session_id).in_(session_ids))
    )
    if as_of is not None:
        query = query.where(col(BreakoutRound.started_at) <= as_of)
    rows = db.exec(
        query.order_by(
            col(BreakoutRound.session_id), col(BreakoutRound.number), col(BreakoutRoom.number)
        )
    ).all()
    room_ids = [room.id for _, room in rows if room.id is not None]
    members: dict[int, list[RoomMember]] = defaultdict(list)
    member_rows = (
        db.exec(
            select(RoomMember)
            .where(col(RoomMember.room_id).in_(room_ids))
            .order_by(col(RoomMember.id))
        ).all()
        if with_members
        else []
    )
    for member in member_rows:
        members[member.room_id].append(member)
    versions: dict[int, list[ReportBack]] = defaultdict(list)
    reports = select(ReportBack).where(col(ReportBack.room_id).in_(room_ids))
    if as_of is not None:
        reports = reports.where(col(ReportBack.submitted_at) <= as_of)
    for report in db.exec(reports.order_by(col(ReportBack.room_id), col(ReportBack.version))).all():
        versions[report.room_id].append(report)
    return [
        RoomReport(round_, room, members[room.id or 0], versions[room.id or 0])
        for round_, room in rows
    ]


def quotes_of(db: Session, *, report_ids: Sequence[int]) -> dict[int, list[ReportQuote]]:
    """Quotes of these report-back versions, in the order they were typed."""
    quotes: dict[int, list[ReportQuote]] = defaultdict(list)
    for quote in db.exec(
        select(ReportQuote)
        .where(col(ReportQuote.report_id).in_(report_ids))
        .order_by(col(ReportQuote.report_id), col(ReportQuote.position))
    ).all():
        quotes[quote.report_id].append(quote)
    return quotes


def themes_of(db: Session, *, report_ids: Sequence[int]) -> dict[int, list[str]]:
    """Theme names tagged on these report-back versions."""
    themes: dict[int, list[str]] = defaultdict(list)
    for report_id, name in db.exec(
        select(ReportTheme.report_id, SessionTheme.name)
        .join(SessionTheme, col(SessionTheme.id) == col(ReportTheme.theme_id))
        .where(col(ReportTheme.report_id).in_(report_ids))
        .order_by(col(ReportTheme.report_id), col(SessionTheme.name))
    ).all():
        themes[int(report_id)].append(str(name))
    return themes
