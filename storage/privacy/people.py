"""Who a person is in the database (their ids and emails), and everything stored about them."""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_
from sqlmodel import Session, col, select

from storage.models import ListeningSession, Participant, SessionFacilitator
from storage.outbox import OutboxRow
from storage.polls import Poll, PollOption, PollVote, PollVoter
from storage.rooms import (
    BreakoutRoom,
    BreakoutRound,
    ReportBack,
    ReportQuote,
    RoomMember,
    RoomNote,
)
from storage.zoom.people import (
    SlackEmail,
    ZoomPerson,
    ZoomRoomVisit,
    normalize_email,
    zoom_user_id,
)
from storage.zoom.polls import ZoomAnswer


@dataclass(frozen=True)
class Person:
    """The ids a person is stored under (Slack's, and Zoom-only ones) and their emails."""

    user_ids: frozenset[str]
    emails: frozenset[str]

    def names(self) -> list[str]:
        """Every string that identifies them, longest first (for searching and rewriting)."""
        return sorted(self.user_ids | self.emails, key=lambda name: (-len(name), name))


def find_person(db: Session, *, who: str) -> Person:
    """The ids and emails stored for `who`, a Slack user id or an email.

    An email finds the Slack user the bot matched to it and every Zoom row that gave it; a user
    id finds the emails known for it, and through them the same Zoom rows.
    """
    given = who.strip()
    emails: set[str] = set()
    user_ids: set[str] = set()
    if "@" in given:
        email = normalize_email(given)
        if email:
            emails.add(email)
    else:
        user_ids.add(given)
        known = db.exec(select(SlackEmail.email).where(col(SlackEmail.user_id) == given)).all()
        emails.update(email for email in known if email)
        zoomed = db.exec(select(ZoomPerson.email).where(col(ZoomPerson.user_id) == given)).all()
        emails.update(e for e in (normalize_email(email) for email in zoomed) if e)
    if emails:
        user_ids.update(
            db.exec(select(SlackEmail.user_id).where(col(SlackEmail.email).in_(emails))).all()
        )
        user_ids.update(
            db.exec(
                select(ZoomPerson.user_id).where(func.lower(col(ZoomPerson.email)).in_(emails))
            ).all()
        )
        user_ids.update(zoom_user_id(email=email, identity="") for email in emails)
    return Person(user_ids=frozenset(user_ids), emails=frozenset(emails))


# A name stands alone in a stored text: not inside a longer id or email ("ann@x.org" in
# "joann@x.org", "U1" in "U12", "a@b.org" in "a@b.org.uk"). Keys and targets join parts with ":"
# ("user:U1", "zoom:ab12"), JSON quotes them, a mention is "<@U1>": all of those stand alone.
_BEFORE = r"(?<![\w.+-])"
_AFTER = r"(?![\w@+-]|\.\w)"


@functools.lru_cache(maxsize=64)
def matcher(names: frozenset[str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """A pattern finding any of `names` standing alone (any case), and each name by its
    lower case."""
    longest_first = sorted(names, key=len, reverse=True)
    alternatives = "|".join(re.escape(name) for name in longest_first)
    pattern = re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}", re.IGNORECASE)
    return pattern, {name.lower(): name for name in longest_first}


_NAME_CHARS = r"\w.+@\-"  # what `_BEFORE` and `_AFTER` look at around a name
_NAME_CHAR = re.compile(f"[{_NAME_CHARS}]")
_WORD = re.compile(r"\w")
_JOINS = re.compile(r"[\w.+-]")  # a name cannot start just after one of these
_ENDS_BEFORE = re.compile(r"[\w@+-]")  # nor end just before one of these (nor ".\w")


class NameFinder:
    """Finds which of many names stand alone in a text, as `matcher`'s pattern would, in time
    proportional to the text rather than to the number of names (a purge looks for thousands).

    A text's runs of name characters (those of `_BEFORE`/`_AFTER`, and any other character a
    name holds, such as the ":" of "zoom:…") hold every place a name can stand alone: it starts
    at a run's start or just after a character that `_BEFORE` allows ("@", ":"), and ends at a
    run's end, before a character `_AFTER` allows (":"), or before a "." no word character
    follows. Each such piece of a run is looked up by its lower case.
    """

    def __init__(self, names: Collection[str]) -> None:
        self.by_lower = {name.lower(): name for name in names}
        self.longest = max((len(name) for name in names), default=0)
        extra = {c for name in names for c in name if not _NAME_CHAR.match(c)}
        self.run = re.compile(f"[{_NAME_CHARS}{''.join(re.escape(c) for c in sorted(extra))}]+")

    def __call__(self, text: str | None) -> set[str]:
        found: set[str] = set()
        if not text or not self.by_lower:
            return found
        for run in self.run.finditer(text):
            word = run.group(0)
            starts = [0, *(i for i in range(1, len(word)) if not _JOINS.match(word[i - 1]))]
            ends = sorted({len(word), *(i for i in range(1, len(word)) if self._may_end(word, i))})
            for start in starts:
                # Only pieces no longer than the longest name: a long run of ":" and "@" (pasted
                # text) costs its length times the names' length, not its length squared.
                first = bisect.bisect_right(ends, start)
                last = bisect.bisect_right(ends, start + self.longest)
                for stop in ends[first:last]:
                    if name := self.by_lower.get(word[start:stop].lower()):
                        found.add(name)
        return found

    @staticmethod
    def _may_end(word: str, i: int) -> bool:
        """Whether a name may end just before `word[i]` (as `_AFTER` says)."""
        c = word[i]
        if c == ".":
            return i + 1 == len(word) or not _WORD.match(word[i + 1])
        return not _ENDS_BEFORE.match(c)


def in_sessions(column: Any, session_ids: Collection[int] | None) -> ColumnElement[bool]:
    """`column IN session_ids`, or true when `session_ids` is None (everywhere)."""
    if session_ids is None:
        return col(column).is_not(None)
    if not session_ids:
        return false()
    return col(column).in_(list(session_ids))


def naming(column: Any, names: Collection[str]) -> ColumnElement[bool]:
    """Rows whose text `column` contains any of `names` (JSON args, keys, targets)."""
    if not names:
        return false()
    return or_(*(col(column).contains(name, autoescape=True) for name in names))


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def person_record(db: Session, *, person: Person) -> dict[str, Any]:
    """Everything stored about a person, as plain JSON-ready values (their copy of it)."""
    ids = list(person.user_ids)
    emails = list(person.emails)
    titles = {s.id: s.title for s in db.exec(select(ListeningSession)).all()}
    record: dict[str, Any] = {"user_ids": sorted(ids), "emails": sorted(emails)}

    record["check_ins"] = [
        {
            "session_id": p.session_id,
            "session": titles.get(p.session_id),
            "user_id": p.user_id,
            "role": p.role,
            "place": p.place,
            "group": p.group_name,
            "consent_to_quote": p.consent_to_quote,
            "checked_in_at": _when(p.checked_in_at),
        }
        for p in db.exec(
            select(Participant)
            .where(col(Participant.user_id).in_(ids))
            .order_by(col(Participant.session_id))
        ).all()
    ]

    options = {
        (o.poll_id, o.option_index): o.text
        for o in db.exec(
            select(PollOption)
            .join(PollVoter, col(PollVoter.poll_id) == col(PollOption.poll_id))
            .where(col(PollVoter.user_id).in_(ids))
        ).all()
    }
    chosen: dict[tuple[int, str], list[str]] = {}
    for vote in db.exec(
        select(PollVote)
        .where(col(PollVote.user_id).in_(ids))
        .order_by(col(PollVote.poll_id), col(PollVote.option_index))
    ).all():
        text = options.get((vote.poll_id, vote.option_index), "")
        chosen.setdefault((vote.poll_id, vote.user_id), []).append(text)
    record["votes"] = [
        {
            "session_id": poll.session_id,
            "session": titles.get(poll.session_id),
            "poll_id": poll.id,
            "key": poll.key,
            "question": poll.question,
            "anonymous": poll.anonymous,
            # An anonymous poll stores only that they voted, never what they chose.
            "chose": None if poll.anonymous else chosen.get((poll.id or 0, user_id), []),
        }
        for poll, user_id in db.exec(
            select(Poll, PollVoter.user_id)
            .join(PollVoter, col(PollVoter.poll_id) == col(Poll.id))
            .where(col(PollVoter.user_id).in_(ids))
            .order_by(col(Poll.id))
        ).all()
    ]

    record["rooms"] = [
        {
            "session_id": round_.session_id,
            "session": titles.get(round_.session_id),
            "round": round_.number,
            "room": room.number,
            "facilitator": member.facilitator,
            "joined_at": _when(member.joined_at),
            "joined_how": member.joined_how,
        }
        for member, room, round_ in db.exec(
            select(RoomMember, BreakoutRoom, BreakoutRound)
            .join(BreakoutRoom, col(BreakoutRoom.id) == col(RoomMember.room_id))
            .join(BreakoutRound, col(BreakoutRound.id) == col(RoomMember.round_id))
            .where(col(RoomMember.user_id).in_(ids))
            .order_by(col(RoomMember.id))
        ).all()
    ]

    reports = db.exec(
        select(ReportBack, BreakoutRoom, BreakoutRound)
        .join(BreakoutRoom, col(BreakoutRoom.id) == col(ReportBack.room_id))
        .join(BreakoutRound, col(BreakoutRound.id) == col(BreakoutRoom.round_id))
        .where(col(ReportBack.submitted_by).in_(ids))
        .order_by(col(ReportBack.id))
    ).all()
    quotes: dict[int, list[dict[str, Any]]] = {}
    for quote in db.exec(
        select(ReportQuote)
        .where(col(ReportQuote.report_id).in_([r.id for r, _, _ in reports]))
        .order_by(col(ReportQuote.report_id), col(ReportQuote.position))
    ).all():
        quotes.setdefault(quote.report_id, []).append(
            {
                "text": quote.text,
                "role": quote.speaker_role,
                "place": quote.speaker_place,
                "consent": quote.consent,
            }
        )
    record["report_backs"] = [
        {
            "session_id": round_.session_id,
            "session": titles.get(round_.session_id),
            "round": round_.number,
            "room": room.number,
            "version": report.version,
            "submitted_at": _when(report.submitted_at),
            "summary": report.summary,
            "key_points": [line for line in report.key_points.split("\n") if line],
            "quotes": quotes.get(report.id or 0, []),
        }
        for report, room, round_ in reports
    ]

    notes = db.exec(
        select(RoomNote, BreakoutRound)
        .join(BreakoutRound, col(BreakoutRound.id) == col(RoomNote.round_id))
        .where(or_(col(RoomNote.user_id).in_(ids), col(RoomNote.moved_by).in_(ids)))
        .order_by(col(RoomNote.id))
    ).all()
    numbers = {
        room.id: room.number
        for room in db.exec(
            select(BreakoutRoom).where(
                col(BreakoutRoom.round_id).in_({note.round_id for note, _ in notes})
            )
        ).all()
    }
    # The "joined"/"left" notes posted in rooms' threads about them, or about whom they moved.
    record["room_notes"] = [
        {
            "session_id": round_.session_id,
            "session": titles.get(round_.session_id),
            "round": round_.number,
            "thread_of_room": numbers.get(note.room_id),
            "from_room": numbers.get(note.from_room_id),
            "to_room": numbers.get(note.to_room_id),
            "about_them": note.user_id in person.user_ids,
            "moved_by_them": note.moved_by in person.user_ids,
        }
        for note, round_ in notes
    ]

    record["facilitated"] = sorted(
        set(
            db.exec(
                select(SessionFacilitator.session_id).where(
                    col(SessionFacilitator.user_id).in_(ids)
                )
            ).all()
        )
        | set(
            db.exec(
                select(ListeningSession.id).where(
                    or_(
                        col(ListeningSession.started_by).in_(ids),
                        col(ListeningSession.ended_by).in_(ids),
                    )
                )
            ).all()
        )
    )

    people = db.exec(
        select(ZoomPerson)
        .where(
            or_(
                col(ZoomPerson.user_id).in_(ids),
                func.lower(col(ZoomPerson.email)).in_(emails),
            )
        )
        .order_by(col(ZoomPerson.id))
    ).all()
    visits = db.exec(
        select(ZoomRoomVisit).where(
            or_(
                *(
                    (col(ZoomRoomVisit.session_id) == p.session_id)
                    & (col(ZoomRoomVisit.identity) == p.identity)
                    for p in people
                ),
                false(),
            )
        )
    ).all()
    record["zoom"] = {
        "people": [
            {
                "session_id": p.session_id,
                "session": titles.get(p.session_id),
                "name": p.name,
                "email": p.email,
                "registrant_id": p.registrant_id,
                "joined_at": _when(p.joined_at),
                "left_at": _when(p.left_at),
                "source": p.source,
            }
            for p in people
        ],
        "room_visits": [
            {
                "session_id": v.session_id,
                "room_uuid": v.room_uuid,
                "joined_at": _when(v.joined_at),
                "left_at": _when(v.left_at),
            }
            for v in visits
        ],
        "poll_answers": [
            {
                "poll_id": answer.poll_id,
                "question": question,
                "option_index": answer.option_index,
                "answer": answer.answer,
            }
            for answer, question in db.exec(
                select(ZoomAnswer, Poll.question)
                .join(Poll, col(Poll.id) == col(ZoomAnswer.poll_id))
                .where(col(ZoomAnswer.user_id).in_(ids))
                .order_by(col(ZoomAnswer.id))
            ).all()
        ],
        "slack_email": [
            {"user_id": row.user_id, "email": row.email, "looked_up_at": _when(row.looked_up_at)}
            for row in db.exec(
                select(SlackEmail).where(
                    or_(col(SlackEmail.user_id).in_(ids), col(SlackEmail.email).in_(emails))
                )
            ).all()
        ],
    }

    find = NameFinder(person.names())
    named = [
        row
        for row in db.exec(
            select(OutboxRow)
            .where(
                or_(
                    naming(OutboxRow.target, person.names()),
                    naming(OutboxRow.args, person.names()),
                )
            )
            .order_by(col(OutboxRow.id))
        ).all()
        # The query finds the names inside longer ones too ("U1" in "U12"): keep only the rows
        # naming them standing alone, as erasure rewrites them.
        if find(row.target) or find(row.args)
    ]
    record["messages"] = [
        {
            "kind": row.kind,
            "target": row.target,
            "args": json.loads(row.args or "{}"),
            "created_at": _when(row.created_at),
            "sent_at": _when(row.sent_at),
        }
        for row in named
    ]
    return record


def holds_anything(record: dict[str, Any]) -> bool:
    """Whether a person's record (from `person_record`) holds any stored row."""
    zoom = record["zoom"]
    return (
        any(
            record[part]
            for part in ("check_ins", "votes", "rooms", "report_backs", "room_notes", "facilitated")
        )
        or any(zoom[part] for part in ("people", "poll_answers", "slack_email"))
        or bool(record["messages"])
    )
