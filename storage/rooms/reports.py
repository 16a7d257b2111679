"""Report-backs, their quotes and the session's themes: tables and repository functions.

Every function takes the unit of work (`db`) and keyword-only arguments; none knows about Slack.
Report-backs are versioned: a new submission adds a version and never changes an older one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import ATTRIBUTE_MAX, fk_column, utc_column
from storage.rooms.rounds import USER_MAX, BreakoutRoom

# Column size; the rule for theme names (`bot.rooms.THEME_MAX`) must fit in it.
THEME_MAX = 75
TS_MAX = 32
WITHDRAWN_BY_MAX = 20
WITHDRAWN_BY_FACILITATOR = "facilitator"
WITHDRAWN_BY_REPORTER = "reporter"
WITHDRAWN_BY_ORGANISER = "organiser"


class SessionTheme(SQLModel, table=True):
    """A theme report-backs in a session can be tagged with."""

    __tablename__ = "session_theme"
    __table_args__ = (UniqueConstraint("session_id", "name_key", name="uq_session_theme_name"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    name: str = Field(sa_column=Column(String(THEME_MAX), nullable=False))
    # The name folded for comparison, so "Housing" and "housing " are one theme.
    name_key: str = Field(sa_column=Column(String(2 * THEME_MAX), nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class ReportBack(SQLModel, table=True):
    """One version of a room's report-back; the highest version counts."""

    __tablename__ = "report_back"
    __table_args__ = (UniqueConstraint("room_id", "version", name="uq_report_back_version"),)

    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(sa_column=fk_column("breakout_room.id"))
    version: int = Field(sa_column=Column(Integer, nullable=False))
    submitted_by: str = Field(sa_column=Column(String(USER_MAX), nullable=False))
    submitted_at: datetime = Field(sa_column=utc_column(nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    # One key point per line; empty when none were given.
    key_points: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The version's post in the room's thread, so a withdrawn quote can be edited out of it.
    thread_ts: str | None = Field(default=None, sa_column=Column(String(TS_MAX)))


class ReportQuote(SQLModel, table=True):
    """A quote in a report-back version, attributed by role and place only."""

    __tablename__ = "report_quote"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=fk_column("report_back.id"))
    position: int = Field(sa_column=Column(Integer, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    speaker_role: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    speaker_place: str | None = Field(default=None, sa_column=Column(String(ATTRIBUTE_MAX)))
    consent: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    # Withdrawn quotes keep their row (its id stays findable) but lose their text and speaker.
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Who withdrew it as a role (WITHDRAWN_BY_*), never a user id: nothing more to erase later.
    withdrawn_by: str | None = Field(default=None, sa_column=Column(String(WITHDRAWN_BY_MAX)))
    # The earlier version's quote the form offered in this one's place (the reporter may have
    # edited it): withdrawing any quote of such a family withdraws all of them. None for a new
    # quote, and for quotes stored before lineage was kept (migration 0018).
    copied_from: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("report_quote.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )

    @property
    def shown(self) -> bool:
        """Whether the quote may be shown: its speaker agreed and it is not withdrawn."""
        return self.consent and self.withdrawn_at is None


class ReportTheme(SQLModel, table=True):
    """A theme a report-back version is tagged with."""

    __tablename__ = "report_theme"

    report_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("report_back.id", ondelete="CASCADE"), primary_key=True
        )
    )
    theme_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("session_theme.id", ondelete="CASCADE"), primary_key=True
        )
    )


@dataclass(frozen=True)
class NewQuote:
    """A quote to store with a report-back."""

    text: str
    speaker_role: str | None
    speaker_place: str | None
    consent: bool
    # The id of the earlier version's quote the form pre-filled in this one's slot.
    copied_from: int | None = None


def theme_key(name: str) -> str:
    """The comparison form of a theme name."""
    return " ".join(name.split()).casefold()


# -- themes and report-backs -------------------------------------------------------------------


def session_themes(db: Session, *, session_id: int) -> list[SessionTheme]:
    """A session's themes, oldest first."""
    return list(
        db.exec(
            select(SessionTheme)
            .where(SessionTheme.session_id == session_id)
            .order_by(col(SessionTheme.id))
        ).all()
    )


def ensure_themes(
    db: Session, *, session_id: int, names: Sequence[str], now: datetime
) -> list[SessionTheme]:
    """The session's themes with these names, creating the missing ones (same order as names)."""
    found: list[SessionTheme] = []
    for name in names:
        key = theme_key(name)
        existing = db.exec(
            select(SessionTheme).where(
                SessionTheme.session_id == session_id, SessionTheme.name_key == key
            )
        ).first()
        if existing is None:
            theme = SessionTheme(session_id=session_id, name=name, name_key=key, created_at=now)
            try:
                with db.begin_nested():
                    db.add(theme)
                    db.flush()
                existing = theme
            except IntegrityError:
                # Another room added the same theme at the same moment; use theirs.
                existing = db.exec(
                    select(SessionTheme).where(
                        SessionTheme.session_id == session_id, SessionTheme.name_key == key
                    )
                ).one()
        if all(theme.id != existing.id for theme in found):
            found.append(existing)
    return found


def add_report(
    db: Session,
    *,
    room_id: int,
    submitted_by: str,
    now: datetime,
    summary: str,
    key_points: Sequence[str],
    quotes: Sequence[NewQuote],
    theme_ids: Sequence[int],
) -> ReportBack:
    """Add a new version of a room's report-back (older versions stay as they are).

    Two submissions for one room at once would read the same latest version: the caller locks
    the room first (`lock_room`) so they take turns.
    """
    latest = db.exec(
        select(func.max(ReportBack.version)).where(ReportBack.room_id == room_id)
    ).one()
    report = ReportBack(
        room_id=room_id,
        version=(latest or 0) + 1,
        submitted_by=submitted_by,
        submitted_at=now,
        summary=summary,
        key_points="\n".join(key_points),
    )
    db.add(report)
    db.flush()
    assert report.id is not None
    earlier = _room_quotes(db, room_id=room_id) if any(q.copied_from for q in quotes) else []
    sources = {row.id: row for row in earlier}
    for position, quote in enumerate(quotes, start=1):
        # Only a quote of this room's earlier versions can be copied (a form made for another
        # room, or a tampered one, names something else: then the quote is a new one).
        source = sources.get(quote.copied_from) if quote.copied_from else None
        row = ReportQuote(
            report_id=report.id,
            position=position,
            text=quote.text,
            speaker_role=quote.speaker_role,
            speaker_place=quote.speaker_place,
            consent=quote.consent,
            copied_from=source.id if source else None,
        )
        if source is not None and source.withdrawn_at is not None:
            # Withdrawn while the form was open: the copy is withdrawn too, its text not kept.
            row.text, row.speaker_role, row.speaker_place = "", None, None
            row.withdrawn_at, row.withdrawn_by = source.withdrawn_at, source.withdrawn_by
        db.add(row)
    for theme_id in dict.fromkeys(theme_ids):
        db.add(ReportTheme(report_id=report.id, theme_id=theme_id))
    db.flush()
    return report


def get_report(db: Session, *, report_id: int) -> ReportBack | None:
    """A report-back version by id."""
    return db.get(ReportBack, report_id)


def latest_report(db: Session, *, room_id: int) -> ReportBack | None:
    """The version of a room's report-back that counts."""
    return db.exec(
        select(ReportBack)
        .where(ReportBack.room_id == room_id)
        .order_by(col(ReportBack.version).desc())
    ).first()


def report_versions(db: Session, *, room_id: int) -> list[ReportBack]:
    """Every version of a room's report-back, oldest first."""
    return list(
        db.exec(
            select(ReportBack)
            .where(ReportBack.room_id == room_id)
            .order_by(col(ReportBack.version))
        ).all()
    )


def report_quotes(db: Session, *, report_id: int) -> list[ReportQuote]:
    """A version's quotes in the order given."""
    return list(
        db.exec(
            select(ReportQuote)
            .where(ReportQuote.report_id == report_id)
            .order_by(col(ReportQuote.position))
        ).all()
    )


def report_themes(db: Session, *, report_id: int) -> list[SessionTheme]:
    """The themes a version is tagged with, oldest theme first."""
    return list(
        db.exec(
            select(SessionTheme)
            .join(ReportTheme, col(ReportTheme.theme_id) == col(SessionTheme.id))
            .where(ReportTheme.report_id == report_id)
            .order_by(col(SessionTheme.id))
        ).all()
    )


def reported_rooms(db: Session, *, round_id: int) -> set[int]:
    """Ids of a round's rooms that have sent at least one report-back."""
    rows = db.exec(
        select(BreakoutRoom.id)
        .join(ReportBack, col(ReportBack.room_id) == col(BreakoutRoom.id))
        .where(BreakoutRoom.round_id == round_id)
        .distinct()
    ).all()
    return {room_id for room_id in rows if room_id is not None}


# -- withdrawn quotes ----------------------------------------------------------------------------


def get_quote(db: Session, *, quote_id: int) -> ReportQuote | None:
    """A quote by id."""
    return db.get(ReportQuote, quote_id)


def _room_quotes(db: Session, *, room_id: int) -> list[ReportQuote]:
    """Every version's quotes of a room's report-back, oldest version first."""
    return list(
        db.exec(
            select(ReportQuote)
            .join(ReportBack, col(ReportBack.id) == col(ReportQuote.report_id))
            .where(ReportBack.room_id == room_id)
            .order_by(col(ReportBack.version), col(ReportQuote.position))
        ).all()
    )


def same_quote_in_versions(db: Session, *, quote: ReportQuote) -> list[ReportQuote]:
    """The quote as it appears in every version of its room's report-back: its family, oldest
    version first, `quote` included.

    The form copies a room's quotes into each new version, and the reporter may edit them on
    the way: a copy records the quote it was made from (`copied_from`), and the family is every
    quote reached through those links, both ways. Quotes stored before the links were kept are
    matched by their text (spaces aside), as they always were; a link or the same words join
    a family, so neither way leaves a copy out.
    """
    report = db.get(ReportBack, quote.report_id)
    if report is None:
        return [quote]
    rows = _room_quotes(db, room_id=report.room_id)
    texts = {row.id: " ".join(row.text.split()) for row in rows}
    linked: dict[int | None, set[int | None]] = defaultdict(set)
    by_text: dict[str, set[int | None]] = defaultdict(set)
    for row in rows:
        if row.copied_from is not None:
            linked[row.id].add(row.copied_from)
            linked[row.copied_from].add(row.id)
        if texts[row.id]:  # a withdrawn quote has no text left to match
            by_text[texts[row.id]].add(row.id)
    family: set[int] = set()
    waiting = [quote.id]
    while waiting:
        current = waiting.pop()
        if current is None or current in family:
            continue
        family.add(current)
        waiting.extend(linked.get(current, ()))
        waiting.extend(by_text.get(texts.get(current, ""), ()))
    return [row for row in rows if row.id in family] or [quote]


def withdraw_quotes(db: Session, *, quote_ids: Sequence[int], now: datetime, by: str) -> int:
    """Mark quotes withdrawn and blank their text and speaker (compare-and-set: quotes already
    withdrawn are left as they are). Returns how many were withdrawn now."""
    result = db.execute(
        update(ReportQuote)
        .where(col(ReportQuote.id).in_(quote_ids), col(ReportQuote.withdrawn_at).is_(None))
        .values(withdrawn_at=now, withdrawn_by=by, text="", speaker_role=None, speaker_place=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_report_thread(db: Session, *, report_id: int, thread_ts: str) -> None:
    """Remember where a report-back version was posted in its room's thread."""
    db.execute(
        update(ReportBack).where(col(ReportBack.id) == report_id).values(thread_ts=thread_ts)
    )
