"""Erase people's identities: every row naming them is deleted, or keeps its counts under a
random token; then the database's own history of the old rows is scrubbed.

What each table gets: check-ins (`participant`) keep their row (attendance still counts) under
one token per id, with role, place, group and consent emptied; a vote (`poll_voter`, `poll_vote`,
`zoom_answer`) moves to a token of its own per id and poll, so it still counts in the totals but
links to nobody and to no other vote; room memberships, facilitator rights, run-sheet controls,
Zoom people and their room visits, Slack emails and deliveries naming them are deleted;
report-backs, rooms' thread notes and every "by whom" column (session, poll, round, run-sheet
step) keep the row with a token, and the posted messages that showed them are recorded in
`Erased` (see `storage.privacy.posted`) for the bot to edit. Outbox rows not yet sent are
deleted; sent ones (kept so their keys are not posted again) have every mention rewritten to the
token, and lose their reply address.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, col

from storage.db import Database
from storage.models import Delivery, ListeningSession, Participant, SessionFacilitator
from storage.outbox import OutboxRow
from storage.polls import Poll, PollVote, PollVoter
from storage.privacy.erased import (
    CHECK_INS,
    DELIVERIES,
    EMAILS,
    FACILITATION,
    NOTES,
    OTHER,
    OUTBOX_DELETED,
    OUTBOX_REWRITTEN,
    REPORTS,
    ROOMS,
    VOTES,
    ZOOM_ANSWERS,
    ZOOM_PEOPLE,
    ZOOM_TASKS,
    ZOOM_VISITS,
    Erased,
)
from storage.privacy.people import NameFinder, Person, in_sessions, matcher
from storage.privacy.posted import (
    posted_by_facilitators,
    posted_notes,
    posted_reports,
    posted_texts,
    session_of,
)
from storage.privacy.tables import ERASED_PREFIX, erased_token, table_of
from storage.rooms import BreakoutRoom, BreakoutRound, ReportBack, RoomMember, RoomNote
from storage.runsheets import SessionControl, SessionStep
from storage.zoom.meetings import ZoomTask
from storage.zoom.people import SlackEmail, ZoomPerson, ZoomRoomVisit
from storage.zoom.polls import ZoomAnswer

logger = logging.getLogger(__name__)

SCRUB_WAIT_MS = 500  # how long one scrub waits for other connections (callers try again)


def _rewrite(text: str | None, found: Iterable[str], tokens: Mapping[str, str]) -> str | None:
    """`text` with each of the names `found` (standing alone) replaced by its token."""
    found = frozenset(found)
    if text is None or not found:
        return text
    pattern, by_lower = matcher(found)
    return pattern.sub(lambda match: tokens[by_lower[match.group(0).lower()]], text)


def erase(
    db: Session,
    *,
    person: Person,
    session_ids: Collection[int] | None = None,
    everywhere: bool = True,
    thorough: bool = False,
    per_session: bool = False,
) -> Erased:
    """Erase `person` from the sessions given (None: all of them), in the caller's transaction.

    Args:
        db: the unit of work.
        person: the ids and emails to erase.
        session_ids: the sessions to erase them from; None for every session.
        everywhere: also the rows of no session (Slack emails, outbox, deliveries): when they
            have no rows left in any other session.
        thorough: also rewrite any other text column that still holds them standing alone (a
            name typed into a report-back, a quote, a poll, a title, someone's role): every
            table's, or with `session_ids` the rows of those sessions only.
        per_session: a token per id and session for the check-ins, not one per id (a purge:
            the report counts them once with what `counted_elsewhere` stored).

    Returns:
        What changed.
    """
    erased = Erased()
    tokens = {name: erased_token() for name in person.names()}
    ids = sorted(person.user_ids)
    conn = db.connection()
    _participants(conn, ids, tokens if not per_session else None, session_ids, erased)
    _votes(conn, ids, session_ids, erased)
    _rooms(conn, ids, tokens, session_ids, erased)
    _facilitation(conn, ids, tokens, session_ids, erased)
    _zoom(conn, person, tokens, session_ids, erased)
    if everywhere:
        _unscoped(conn, person, tokens, erased)
    if thorough:
        _leftovers(conn, tokens, erased, session_ids)
    return erased


def _rewrite_rows(conn: Connection, column: Any, rows: Sequence[Any]) -> None:
    """Set `column` of each row, found by its primary key, to the last item of its entry in
    `rows` ((key..., new value) each, the keys in the table's primary-key order)."""
    keys = list(column.table.primary_key.columns)
    # By primary key: an executemany cannot carry a scope's IN lists.
    conn.execute(
        update(column.table)
        .where(*(key == bindparam(f"b_{key.name}") for key in keys))
        .values({column: bindparam("b_new")}),
        [
            {**{f"b_{key.name}": row[n] for n, key in enumerate(keys)}, "b_new": row[-1]}
            for row in rows
        ],
    )


def _replace_ids(
    conn: Connection,
    column: Any,
    where: Any,
    ids: list[str],
    tokens: Mapping[str, str],
) -> list[Any]:
    """Rewrite `column` from each id to its token where `where` holds.

    Returns:
        The (first) primary key of each row changed.
    """
    keys = list(column.table.primary_key.columns)
    rows = conn.execute(select(*keys, column).where(column.in_(ids), where)).all()
    if rows:
        _rewrite_rows(conn, column, [(*row[:-1], tokens[row[-1]]) for row in rows])
    return [row[0] for row in rows]


def _participants(
    conn: Connection,
    ids: list[str],
    tokens: Mapping[str, str] | None,
    session_ids: Collection[int] | None,
    erased: Erased,
) -> None:
    """Check-ins keep their row, without role, place, group or consent, under the person's
    token (`tokens`), or under a new token per check-in when `tokens` is None."""
    table = table_of(Participant)
    scope = in_sessions(table.c.session_id, session_ids)
    rows = conn.execute(
        select(table.c.id, table.c.user_id).where(table.c.user_id.in_(ids), scope)
    ).all()
    if not rows:
        return
    conn.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            user_id=bindparam("b_new"),
            role=None,
            place=None,
            group_name=None,
            consent_to_quote=False,
        ),
        [
            {"b_id": row_id, "b_new": tokens[user_id] if tokens else erased_token()}
            for row_id, user_id in rows
        ],
    )
    erased.add(CHECK_INS, table.name, len(rows))


def _votes(
    conn: Connection, ids: list[str], session_ids: Collection[int] | None, erased: Erased
) -> None:
    """Each (id, poll) becomes a token of its own, in `poll_voter`, `poll_vote`, `zoom_answer`."""
    polls = select(Poll.id).where(in_sessions(Poll.session_id, session_ids))  # type: ignore[call-overload]
    voter, vote, answer = table_of(PollVoter), table_of(PollVote), table_of(ZoomAnswer)
    voted = conn.execute(
        select(voter.c.poll_id, voter.c.user_id).where(
            voter.c.user_id.in_(ids), voter.c.poll_id.in_(polls)
        )
    ).all()
    answered = conn.execute(
        select(answer.c.poll_id, answer.c.user_id)
        .where(answer.c.user_id.in_(ids), answer.c.poll_id.in_(polls))
        .distinct()
    ).all()
    pairs = {(int(p), str(u)) for p, u in [*voted, *answered]}
    token = {pair: erased_token() for pair in pairs}
    if voted:
        params = [{"b_poll": p, "b_old": u, "b_new": token[(p, u)]} for p, u in voted]
        # The vote rows reference their voter row: add the new voter, move the votes to it,
        # then drop the old voter.
        conn.execute(
            insert(voter).values(poll_id=bindparam("b_poll"), user_id=bindparam("b_new")),
            params,
        )
        conn.execute(
            update(vote)
            .where(vote.c.poll_id == bindparam("b_poll"), vote.c.user_id == bindparam("b_old"))
            .values(user_id=bindparam("b_new")),
            params,
        )
        conn.execute(
            delete(voter).where(
                voter.c.poll_id == bindparam("b_poll"), voter.c.user_id == bindparam("b_old")
            ),
            params,
        )
        erased.add(VOTES, voter.name, len(voted))
        erased.tables.add(vote.name)
    if answered:
        conn.execute(
            update(answer)
            .where(answer.c.poll_id == bindparam("b_poll"), answer.c.user_id == bindparam("b_old"))
            .values(user_id=bindparam("b_new")),
            [{"b_poll": p, "b_old": u, "b_new": token[(p, u)]} for p, u in answered],
        )
        erased.add(ZOOM_ANSWERS, answer.name, len(answered))


def _rooms(
    conn: Connection,
    ids: list[str],
    tokens: Mapping[str, str],
    session_ids: Collection[int] | None,
    erased: Erased,
) -> None:
    rounds = select(BreakoutRound.id).where(  # type: ignore[call-overload]
        in_sessions(BreakoutRound.session_id, session_ids)
    )
    member = table_of(RoomMember)
    rows = conn.execute(
        select(member.c.id, member.c.round_id, member.c.room_id).where(
            member.c.user_id.in_(ids), member.c.round_id.in_(rounds)
        )
    ).all()
    if rows:
        conn.execute(delete(member).where(member.c.id.in_([row.id for row in rows])))
        erased.rooms.update((int(row.round_id), int(row.room_id)) for row in rows)
        erased.add(ROOMS, member.name, len(rows))
    rooms = select(BreakoutRoom.id).where(col(BreakoutRoom.round_id).in_(rounds))  # type: ignore[call-overload]
    report = table_of(ReportBack)
    reported = _replace_ids(conn, report.c.submitted_by, report.c.room_id.in_(rooms), ids, tokens)
    erased.add(REPORTS, report.name, len(reported))
    posted_reports(conn, reported, erased)
    # A note in a room's thread names who joined or left (and keeps who moved them).
    note = table_of(RoomNote)
    named = _replace_ids(conn, note.c.user_id, note.c.round_id.in_(rounds), ids, tokens)
    moved = _replace_ids(conn, note.c.moved_by, note.c.round_id.in_(rounds), ids, tokens)
    erased.add(NOTES, note.name, len({*named, *moved}))
    posted_notes(conn, named, erased)


def _facilitation(
    conn: Connection,
    ids: list[str],
    tokens: Mapping[str, str],
    session_ids: Collection[int] | None,
    erased: Erased,
) -> None:
    """Who started, ended or ran things: the rows stay under a token; rights and controls go."""
    session, poll, round_ = table_of(ListeningSession), table_of(Poll), table_of(BreakoutRound)
    step = table_of(SessionStep)
    changed: dict[str, list[Any]] = {}
    for column, scope in (
        (session.c.started_by, in_sessions(session.c.id, session_ids)),
        (session.c.ended_by, in_sessions(session.c.id, session_ids)),
        (poll.c.created_by, in_sessions(poll.c.session_id, session_ids)),
        (poll.c.closed_by, in_sessions(poll.c.session_id, session_ids)),
        (round_.c.started_by, in_sessions(round_.c.session_id, session_ids)),
        (round_.c.ended_by, in_sessions(round_.c.session_id, session_ids)),
        (step.c.by, in_sessions(step.c.session_id, session_ids)),
    ):
        rows = changed[f"{column.table.name}.{column.name}"] = _replace_ids(
            conn, column, scope, ids, tokens
        )
        erased.add(FACILITATION, column.table.name, len(rows))
    posted_by_facilitators(
        conn,
        started=changed["listening_session.started_by"],
        ended=changed["listening_session.ended_by"],
        closed=changed["poll.closed_by"],
        erased=erased,
    )
    for model in (SessionFacilitator, SessionControl):
        table = table_of(model)
        result = conn.execute(
            delete(table).where(
                table.c.user_id.in_(ids), in_sessions(table.c.session_id, session_ids)
            )
        )
        erased.add(FACILITATION, table.name, int(result.rowcount or 0))


def _zoom(
    conn: Connection,
    person: Person,
    tokens: Mapping[str, str],
    session_ids: Collection[int] | None,
    erased: Erased,
) -> None:
    people, visits, tasks = table_of(ZoomPerson), table_of(ZoomRoomVisit), table_of(ZoomTask)
    matches = [people.c.user_id.in_(list(person.user_ids))]
    if person.emails:
        matches.append(func.lower(people.c.email).in_(list(person.emails)))
    found = conn.execute(
        select(people.c.id, people.c.session_id, people.c.identity).where(
            or_(*matches), in_sessions(people.c.session_id, session_ids)
        )
    ).all()
    if found:
        gone = conn.execute(
            delete(visits).where(
                visits.c.session_id == bindparam("b_session"),
                visits.c.identity == bindparam("b_identity"),
            ),
            [{"b_session": row.session_id, "b_identity": row.identity} for row in found],
        )
        erased.add(ZOOM_VISITS, visits.name, int(gone.rowcount or 0))
        conn.execute(delete(people).where(people.c.id.in_([row.id for row in found])))
        erased.add(ZOOM_PEOPLE, people.name, len(found))
    find = NameFinder(tokens)
    for row in conn.execute(
        select(tasks.c.id, tasks.c.key, tasks.c.args, tasks.c.done_at).where(
            in_sessions(tasks.c.session_id, session_ids)
        )
    ).all():
        hits = find(row.key) | find(row.args)
        if not hits:
            continue
        if row.done_at is None:
            conn.execute(delete(tasks).where(tasks.c.id == row.id))
        else:
            conn.execute(
                update(tasks)
                .where(tasks.c.id == row.id)
                .values(key=_rewrite(row.key, hits, tokens), args=_rewrite(row.args, hits, tokens))
            )
        erased.add(ZOOM_TASKS, tasks.name, 1)


def _unscoped(conn: Connection, person: Person, tokens: Mapping[str, str], erased: Erased) -> None:
    """The rows of no session: Slack emails, the outbox, deliveries."""
    emails = table_of(SlackEmail)
    result = conn.execute(
        delete(emails).where(
            or_(
                emails.c.user_id.in_(list(person.user_ids)),
                emails.c.email.in_(list(person.emails)),
            )
        )
    )
    erased.add(EMAILS, emails.name, int(result.rowcount or 0))
    find = NameFinder(tokens)  # once: a purge's last sessions name thousands
    outbox = table_of(OutboxRow)
    texts = ("key", "target", "args", "progress", "last_error")
    for row in conn.execute(
        select(outbox.c.id, outbox.c.sent_at, outbox.c.failed, *(outbox.c[t] for t in texts))
    ).all():
        hits = set().union(*(find(getattr(row, name)) for name in texts))
        if not hits:
            continue
        if row.sent_at is None and row.failed is None:
            # Not sent yet: nobody has seen it, and nothing needs its key any more.
            conn.execute(delete(outbox).where(outbox.c.id == row.id))
            erased.add(OUTBOX_DELETED, outbox.name, 1)
            continue
        values: dict[str, Any] = {t: _rewrite(getattr(row, t), hits, tokens) for t in texts}
        conn.execute(
            update(outbox).where(outbox.c.id == row.id).values(**values, response_url=None)
        )
        erased.add(OUTBOX_REWRITTEN, outbox.name, 1)
    delivery = table_of(Delivery)
    keys = [key for key in conn.execute(select(delivery.c.key)).scalars() if find(key)]
    if keys:
        conn.execute(delete(delivery).where(delivery.c.key.in_(keys)))
        erased.add(DELIVERIES, delivery.name, len(keys))


def _leftovers(
    conn: Connection,
    tokens: Mapping[str, str],
    erased: Erased,
    session_ids: Collection[int] | None,
) -> None:
    """Any other text column that still holds a name (standing alone: another person's longer
    id or email is not touched) gets its token instead: in every table, or with `session_ids`
    in those sessions' rows only (a purge: the same people's rows elsewhere stay theirs)."""
    names = {name: token for name, token in tokens.items() if not name.startswith(ERASED_PREFIX)}
    if not names:
        return
    rewritten: dict[str, set[Any]] = {}
    find = NameFinder(names)  # once: a purge's names are thousands (matched here, not in SQL)
    for table in SQLModel.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        session = session_of(table)
        scope = None if session_ids is None or session is None else session.in_(list(session_ids))
        if not keys or (session_ids is not None and scope is None):
            continue
        for column in table.columns:
            if not isinstance(column.type, String):
                continue
            if scope is None:
                # The database finds candidates; `find` decides if a name stands alone.
                where = or_(
                    *(func.lower(column).contains(name.lower(), autoescape=True) for name in names)
                )
            else:
                where = scope & (column != "") & ~column.like(ERASED_PREFIX + "_" * 16)
            changed = [
                (*row[:-1], _rewrite(row[-1], found, names))
                for row in conn.execute(select(*keys, column).where(where)).all()
                if (found := find(row[-1]))
            ]
            if changed:
                _rewrite_rows(conn, column, changed)
                rewritten.setdefault(table.name, set()).update(row[0] for row in changed)
            erased.add(OTHER, table.name, len(changed))
    posted_texts(conn, rewritten, erased)


def scrub_history(database: Database, tables: Collection[str]) -> bool:
    """Leave no earlier version of erased rows in the database's files.

    SQLite: the file is rebuilt (VACUUM: free pages go; `secure_delete` already overwrote
    deleted cells) and its write-ahead log checkpointed and truncated to nothing. PostgreSQL:
    the touched tables are rewritten without their dead row versions (VACUUM FULL). Either
    waits at most SCRUB_WAIT_MS for other connections (writers wait behind it meanwhile).

    Returns:
        False when other connections kept it from finishing (a bot busy on the database).
    """
    if database.is_sqlite:
        raw = database.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA secure_delete=ON")
                cursor.execute("VACUUM")
            finally:
                cursor.close()
        except (OperationalError, sqlite3.OperationalError):
            logger.info("database busy: its history is scrubbed on a later run")
            return False
        finally:
            raw.close()
    # SQLite: the log checkpointed and truncated; PostgreSQL: the tables rewritten.
    return database.forget_history(sorted(tables), wait_ms=SCRUB_WAIT_MS)
