"""Polls the bot also created in a session's Zoom meeting, and the answers Zoom gave for them.

`zoom_poll` follows one poll on Zoom: created (Zoom's poll id), refused (why), its answers
merged or never come, deleted from a recurring meeting. `zoom_answer` holds what Zoom's
respondents chose, per option: for named polls one row per respondent and option, under the
respondent's participant id (the matched person's, so breakdowns use their check-in); for
anonymous polls only counts, with no respondent at all. A Zoom respondent who also voted in
Slack is not stored: their Slack vote stands, and `zoom_poll.duplicates` counts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, delete, func, update
from sqlmodel import Field, Session, SQLModel, col, select

from storage.models import fk_column, utc_column
from storage.polls import OPTION_MAX, PollVoter
from storage.zoom.meetings import ERROR_MAX, MEETING_ID_MAX
from storage.zoom.people import USER_MAX, SlackEmail

ZOOM_POLL_ID_MAX = 64  # Zoom's poll ids are 22 characters of URL-safe base64

# What became of a poll on Zoom.
CREATING = "creating"  # the create call is still owed
CREATED = "created"  # in the meeting; its answers come after the meeting
REFUSED = "refused"  # Zoom would not create it (`problem` says why)
MERGED = "merged"  # Zoom's answers are in the poll's results
NO_ANSWERS = "no_answers"  # none came while the bot looked (2 hours after the meeting)
STATUS_MAX = 16


class ZoomPoll(SQLModel, table=True):
    """One poll as created in the session's Zoom meeting."""

    __tablename__ = "zoom_poll"

    poll_id: int = Field(
        sa_column=Column(Integer, ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    )
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    # The meeting id (not an instance's uuid): polls belong to the meeting, and are deleted there.
    meeting_id: str = Field(sa_column=Column(String(MEETING_ID_MAX), nullable=False))
    zoom_poll_id: str | None = Field(default=None, sa_column=Column(String(ZOOM_POLL_ID_MAX)))
    status: str = Field(sa_column=Column(String(STATUS_MAX), nullable=False))
    problem: str | None = Field(default=None, sa_column=Column(String(ERROR_MAX)))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    fetched_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Zoom respondents counted (at least one answer matched an option, not a Slack voter).
    answers_added: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    # Zoom respondents matched by email to a Slack voter of the poll: counted once, in Slack.
    duplicates: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ZoomAnswer(SQLModel, table=True):
    """What Zoom respondents chose: an option (or an answer matching none), and how many."""

    __tablename__ = "zoom_answer"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("poll.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    # Named polls: the respondent's participant id; anonymous polls: None (counts only).
    user_id: str | None = Field(default=None, sa_column=Column(String(USER_MAX), index=True))
    # None: the answer matched no option; `answer` then holds Zoom's text of it.
    option_index: int | None = Field(default=None, sa_column=Column(Integer))
    answer: str | None = Field(default=None, sa_column=Column(String(OPTION_MAX)))
    count: int = Field(sa_column=Column(Integer, nullable=False))


@dataclass(frozen=True)
class AnswerRow:
    """One `zoom_answer` row to store."""

    user_id: str | None
    option_index: int | None
    answer: str | None = None
    count: int = 1


@dataclass(frozen=True)
class ZoomTally:
    """A poll's Zoom answers: counts per option, respondents counted, those who also voted in
    Slack, and the answers that matched no option (text, how many)."""

    counts: tuple[int, ...]
    voters: int
    duplicates: int
    unmatched: tuple[tuple[str, int], ...]


def add_zoom_poll(
    db: Session,
    *,
    poll_id: int,
    session_id: int,
    meeting_id: str,
    now: datetime,
    status: str = CREATING,
    problem: str | None = None,
) -> ZoomPoll:
    """Record that a poll goes to Zoom too (in the poll's own transaction)."""
    row = ZoomPoll(
        poll_id=poll_id,
        session_id=session_id,
        meeting_id=meeting_id,
        status=status,
        problem=problem[:ERROR_MAX] if problem else None,
        created_at=now,
    )
    db.add(row)
    db.flush()
    return row


def zoom_poll_of(db: Session, *, poll_id: int) -> ZoomPoll | None:
    """A poll's Zoom side, or None for a Slack-only poll."""
    return db.get(ZoomPoll, poll_id)


def zoom_polls_of(
    db: Session, *, session_id: int, statuses: Sequence[str] | None = None
) -> list[ZoomPoll]:
    """A session's Zoom polls (in these states), oldest first."""
    query = select(ZoomPoll).where(col(ZoomPoll.session_id) == session_id)
    if statuses is not None:
        query = query.where(col(ZoomPoll.status).in_(list(statuses)))
    return list(db.exec(query.order_by(col(ZoomPoll.poll_id))).all())


def set_created(db: Session, *, poll_id: int, zoom_poll_id: str) -> bool:
    """Record Zoom's id for a poll being created; False if it already had one (a rerun)."""
    result = db.execute(
        update(ZoomPoll)
        .where(col(ZoomPoll.poll_id) == poll_id, col(ZoomPoll.zoom_poll_id).is_(None))
        .values(zoom_poll_id=zoom_poll_id[:ZOOM_POLL_ID_MAX], status=CREATED)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_problem(db: Session, *, poll_id: int, problem: str, status: str | None = None) -> None:
    """Record why Zoom would not create a poll (or share its answers), and its new state."""
    values: dict[str, object] = {"problem": problem[:ERROR_MAX]}
    if status is not None:
        values["status"] = status
    db.execute(update(ZoomPoll).where(col(ZoomPoll.poll_id) == poll_id).values(**values))


def save_answers(
    db: Session,
    *,
    poll_id: int,
    rows: Iterable[AnswerRow],
    added: int,
    duplicates: int,
    now: datetime,
) -> bool:
    """Store a poll's Zoom answers, once: a compare-and-set from CREATED to MERGED.

    Returns:
        False (and nothing changes) when they were stored already, or the poll is not waiting.
    """
    result = db.execute(
        update(ZoomPoll)
        .where(col(ZoomPoll.poll_id) == poll_id, col(ZoomPoll.status) == CREATED)
        .values(status=MERGED, fetched_at=now, answers_added=added, duplicates=duplicates)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    db.execute(delete(ZoomAnswer).where(col(ZoomAnswer.poll_id) == poll_id))
    db.add_all(
        ZoomAnswer(
            poll_id=poll_id,
            user_id=row.user_id,
            option_index=row.option_index,
            answer=row.answer[:OPTION_MAX] if row.answer is not None else None,
            count=row.count,
        )
        for row in rows
    )
    db.flush()
    return True


def give_up_answers(db: Session, *, poll_id: int, now: datetime) -> bool:
    """No answers came for a created poll: CREATED to NO_ANSWERS, once."""
    result = db.execute(
        update(ZoomPoll)
        .where(col(ZoomPoll.poll_id) == poll_id, col(ZoomPoll.status) == CREATED)
        .values(status=NO_ANSWERS, fetched_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_deleted(db: Session, *, poll_id: int, now: datetime) -> None:
    """Record that the poll was deleted from its (recurring) Zoom meeting."""
    db.execute(
        update(ZoomPoll)
        .where(col(ZoomPoll.poll_id) == poll_id, col(ZoomPoll.deleted_at).is_(None))
        .values(deleted_at=now)
    )


def zoom_tally(db: Session, *, poll_id: int, option_count: int) -> ZoomTally | None:
    """A poll's merged Zoom answers; None until they are merged (or for a Slack-only poll)."""
    return zoom_tallies(db, poll_ids=[poll_id], option_counts={poll_id: option_count}).get(poll_id)


def zoom_tallies(
    db: Session,
    *,
    poll_ids: Sequence[int],
    option_counts: dict[int, int],
    as_of: datetime | None = None,
) -> dict[int, ZoomTally]:
    """`zoom_tally` for many polls in two queries (summaries and reports); with `as_of`, only
    answers merged by then (they are merged all at once)."""
    query = select(ZoomPoll).where(
        col(ZoomPoll.poll_id).in_(list(poll_ids)), ZoomPoll.status == MERGED
    )
    if as_of is not None:
        query = query.where(col(ZoomPoll.fetched_at) <= as_of)
    merged = db.exec(query).all()
    if not merged:
        return {}
    ids = [row.poll_id for row in merged]
    counts: dict[int, list[int]] = {i: [0] * option_counts.get(i, 0) for i in ids}
    unmatched: dict[int, dict[str, int]] = defaultdict(dict)
    rows = db.exec(
        select(
            ZoomAnswer.poll_id,
            ZoomAnswer.option_index,
            ZoomAnswer.answer,
            func.sum(ZoomAnswer.count),
        )
        .where(col(ZoomAnswer.poll_id).in_(ids))
        .group_by(col(ZoomAnswer.poll_id), col(ZoomAnswer.option_index), col(ZoomAnswer.answer))
        .order_by(col(ZoomAnswer.poll_id), col(ZoomAnswer.option_index), col(ZoomAnswer.answer))
    ).all()
    for poll_id, index, answer, total in rows:
        if index is None:
            unmatched[poll_id][answer or ""] = int(total)
        elif 0 <= index < len(counts[poll_id]):
            counts[poll_id][index] += int(total)
    return {
        row.poll_id: ZoomTally(
            counts=tuple(counts[row.poll_id]),
            voters=row.answers_added,
            duplicates=row.duplicates,
            unmatched=tuple(
                sorted(unmatched[row.poll_id].items(), key=lambda item: (-item[1], item[0]))
            ),
        )
        for row in merged
    }


def named_zoom_answers(
    db: Session, *, poll_ids: Sequence[int], as_of: datetime | None = None
) -> list[tuple[int, str, int]]:
    """(poll id, respondent's participant id, option index) of named polls' matched answers
    (with `as_of`, of polls whose answers were merged by then)."""
    query = (
        select(ZoomAnswer.poll_id, ZoomAnswer.user_id, ZoomAnswer.option_index)
        .join(ZoomPoll, col(ZoomPoll.poll_id) == col(ZoomAnswer.poll_id))
        .where(
            col(ZoomAnswer.poll_id).in_(list(poll_ids)),
            col(ZoomPoll.status) == MERGED,
            col(ZoomAnswer.user_id).is_not(None),
            col(ZoomAnswer.option_index).is_not(None),
        )
    )
    if as_of is not None:
        query = query.where(col(ZoomPoll.fetched_at) <= as_of)
    order = (col(ZoomAnswer.poll_id), col(ZoomAnswer.user_id), col(ZoomAnswer.option_index))
    rows = db.exec(query.order_by(*order)).all()
    return [(int(p), str(u), int(i or 0)) for p, u, i in rows]


def poll_voters(db: Session, *, poll_id: int) -> set[str]:
    """Everyone who voted in the poll in Slack (named or anonymous alike)."""
    return set(db.exec(select(PollVoter.user_id).where(col(PollVoter.poll_id) == poll_id)).all())


def voters_by_email(db: Session, *, poll_id: int) -> dict[str, str]:
    """The poll's Slack voters whose email the bot knows: normalized email → Slack user id."""
    rows = db.exec(
        select(SlackEmail.email, SlackEmail.user_id)
        .join(PollVoter, col(PollVoter.user_id) == col(SlackEmail.user_id))
        .where(col(PollVoter.poll_id) == poll_id, col(SlackEmail.email).is_not(None))
    ).all()
    # The column holds normalize_email's form already (record_slack_email writes it so).
    return {str(email): str(user_id) for email, user_id in rows if email}


def claimed_zoom_poll_ids(db: Session, *, meeting_id: str) -> set[str]:
    """Zoom's ids of the polls the bot already holds for a meeting (in any session)."""
    rows = db.exec(
        select(ZoomPoll.zoom_poll_id).where(
            col(ZoomPoll.meeting_id) == meeting_id, col(ZoomPoll.zoom_poll_id).is_not(None)
        )
    ).all()
    return {str(row) for row in rows}
