"""Generate a realistic tour in the database (tests use small ones, bench/report.py a big one)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from storage import repository as repo
from storage import rooms as rooms_repo
from storage.db import Database
from storage.polls import PollOption, PollVote, PollVoter, create_poll

ROLES = ["Member", "Trade union member", "Councillor", "Branch officer", None]
GROUPS = ["CLP", "Trade union branch", "Council group"]
PLACES = ["Durham", "Stoke on Trent", "Leeds", "Bristol", "Cardiff", None]
QUESTIONS = [
    ("nhs", "Should the NHS get more funding?", ["Agree", "Disagree", "Not sure"]),
    ("housing", "Is housing your biggest worry?", ["Yes", "No"]),
    ("transport", "Which transport matters most?", ["Buses", "Trains", "Roads", "Cycling"]),
    ("energy", "Public ownership of energy?", ["Agree", "Disagree", "Not sure"]),
]
SAYINGS = [
    "Rents in {place} are far too high for young people",
    "The buses stop at six so I cannot get to evening shifts",
    "Our GP surgery has a three week wait",
    "Energy bills took half my pension this winter",
    "We need council homes, not luxury flats",
    "Young people are leaving {place} for work",
]


@dataclass
class Truth:
    """What was written, for tests to check reports against by their own arithmetic."""

    session_ids: list[int] = field(default_factory=list)
    # (poll key, session id, user id) -> chosen option text, for named single-choice polls
    named: dict[tuple[str, int, str], str] = field(default_factory=dict)
    # poll key -> option text -> anonymous count
    anonymous: dict[str, dict[str, int]] = field(default_factory=dict)
    anonymous_voters: dict[str, int] = field(default_factory=dict)
    attributes: dict[tuple[int, str], tuple[str | None, str | None]] = field(default_factory=dict)
    consented_quotes: list[str] = field(default_factory=list)
    withheld_quotes: list[str] = field(default_factory=list)


def generate_tour(
    db: Database,
    *,
    sessions: int,
    people: int,
    polls: int,
    report_backs: int,
    seed: int = 1,
    start: datetime = datetime(2031, 3, 1, 18, tzinfo=UTC),
) -> Truth:
    """Write sessions with check-ins, closed polls with votes, rounds and report-backs."""
    rng = random.Random(seed)
    truth = Truth()
    reports_per_session = max(1, report_backs // max(1, sessions))
    for number in range(sessions):
        at = start + timedelta(days=7 * number)
        group_type = GROUPS[number % len(GROUPS)]
        with db.transaction() as s:
            session = repo.create_session(
                s,
                channel_id=f"C{number:06d}",
                title=f"Listening session {number + 1}",
                area=PLACES[number % 4],
                group_type=group_type,
                zoom_meeting_id=None,
                started_by="U0FACIL",
                now=at,
            )
            assert session.id is not None
            sid = session.id
            truth.session_ids.append(sid)
            users = [f"U{number:03d}{i:04d}" for i in range(people)]
            for user in users:
                role, place = rng.choice(ROLES), rng.choice(PLACES)
                group = rng.choice([group_type, group_type, None])
                repo.check_in(
                    s,
                    session_id=sid,
                    user_id=user,
                    role=role,
                    place=place,
                    group_name=group,
                    consent_to_quote=rng.random() < 0.7,
                    now=at,
                )
                truth.attributes[(sid, user)] = (role, group or group_type)
            for index in range(polls):
                key, question, options = QUESTIONS[index % len(QUESTIONS)]
                if index >= len(QUESTIONS):
                    key, question = f"{key}-{index}", f"{question} ({index})"
                anonymous = index % 4 == 3
                poll = create_poll(
                    s,
                    session_id=sid,
                    channel_id=session.channel_id,
                    key=key,
                    question=question,
                    options=options,
                    multi=False,
                    anonymous=anonymous,
                    hide_results=False,
                    created_by="U0FACIL",
                    now=at,
                    closes_at=at + timedelta(minutes=2),
                )
                assert poll.id is not None
                voters = [u for u in users if rng.random() < 0.85]
                s.add_all(PollVoter(poll_id=poll.id, user_id=u) for u in voters)
                s.flush()
                counts = [0] * len(options)
                for user in voters:
                    choice = rng.randrange(len(options))
                    counts[choice] += 1
                    if not anonymous:
                        s.add(PollVote(poll_id=poll.id, user_id=user, option_index=choice))
                        truth.named[(key, sid, user)] = options[choice]
                if anonymous:
                    # Aggregated counters, as the anonymous vote path keeps them.
                    rows = s.exec(select(PollOption).where(PollOption.poll_id == poll.id))
                    for row in rows.all():
                        row.anonymous_count = counts[row.option_index]
                    bucket = truth.anonymous.setdefault(key, {})
                    for text, count in zip(options, counts, strict=True):
                        bucket[text] = bucket.get(text, 0) + count
                    truth.anonymous_voters[key] = truth.anonymous_voters.get(key, 0) + len(voters)
                poll.closed_at = at + timedelta(minutes=2)
                s.add(poll)
            _rounds(s, rng, truth, sid, users, at, reports_per_session)
            # Ended, as a session is once its meeting is over.
            repo.end_session(s, session_id=sid, ended_by="U0FACIL", now=at + timedelta(hours=2))
    return truth


def _rounds(
    s: Session,
    rng: random.Random,
    truth: Truth,
    session_id: int,
    users: list[str],
    at: datetime,
    reports: int,
) -> None:
    """Rounds of ten rooms each, until `reports` rooms have reported back."""
    themes = rooms_repo.ensure_themes(
        s, session_id=session_id, names=["Housing", "Transport", "Health"], now=at
    )
    made = 0
    number = 0
    while made < reports:
        number += 1
        size = max(1, len(users) // 10)
        rooms = [
            [(user, False) for user in users[i : i + size]] for i in range(0, len(users), size)
        ][:10] or [[("U0FACIL", True)]]
        round_ = rooms_repo.create_round(
            s,
            session_id=session_id,
            mode="random",
            seed=number,
            prompt="What matters most where you live?",
            started_by="U0FACIL",
            now=at,
            ends_at=at + timedelta(minutes=15),
            warn_at=at + timedelta(minutes=13),
            rooms=rooms,
        )
        assert round_.id is not None
        for room in rooms_repo.rooms_of(s, round_id=round_.id):
            if made >= reports:
                break
            assert room.id is not None
            quotes = []
            for _ in range(rng.randint(0, 5)):
                text = rng.choice(SAYINGS).format(place=rng.choice(PLACES[:-1]))
                consent = rng.random() < 0.8
                quotes.append(
                    rooms_repo.NewQuote(text, rng.choice(ROLES), rng.choice(PLACES), consent)
                )
                (truth.consented_quotes if consent else truth.withheld_quotes).append(text)
            rooms_repo.add_report(
                s,
                room_id=room.id,
                submitted_by=users[0],
                now=at + timedelta(minutes=16),
                summary="We talked about what matters most where we live.",
                key_points=["Housing costs", "Buses"],
                quotes=quotes,
                theme_ids=[t.id for t in rng.sample(themes, rng.randint(0, 2)) if t.id],
            )
            made += 1
        rooms_repo.end_round(
            s,
            round_id=round_.id,
            now=at + timedelta(minutes=15),
            ended_by=None,
            reason="deadline",
            remind_at=None,
        )


def add_closed_poll(
    db: Database,
    *,
    session_id: int,
    channel_id: str,
    question: str,
    options: list[str],
    votes: dict[str, int],
    anonymous: bool = False,
    now: datetime,
) -> int:
    """A closed poll with these votes (user -> option index), stored as votes are."""
    with db.transaction() as s:
        poll = create_poll(
            s,
            session_id=session_id,
            channel_id=channel_id,
            key=question.lower()[:40],
            question=question,
            options=options,
            multi=False,
            anonymous=anonymous,
            hide_results=False,
            created_by="U0FACIL",
            now=now,
            closes_at=now,
        )
        assert poll.id is not None
        s.add_all(PollVoter(poll_id=poll.id, user_id=user) for user in votes)
        s.flush()
        if anonymous:
            for row in s.exec(select(PollOption).where(PollOption.poll_id == poll.id)).all():
                row.anonymous_count = sum(1 for i in votes.values() if i == row.option_index)
                s.add(row)
        else:
            s.add_all(
                PollVote(poll_id=poll.id, user_id=u, option_index=i) for u, i in votes.items()
            )
        poll.closed_at = now
        s.add(poll)
        return poll.id


def add_report_backs(
    db: Database,
    *,
    session_id: int,
    reports: list[tuple[str, list[str], list[rooms_repo.NewQuote], list[str]]],
    now: datetime,
) -> None:
    """One ended round with a room per (summary, key points, quotes, theme names) report-back."""
    with db.transaction() as s:
        round_ = rooms_repo.create_round(
            s,
            session_id=session_id,
            mode="random",
            seed=1,
            prompt="What matters most?",
            started_by="U0FACIL",
            now=now,
            ends_at=now,
            warn_at=now,
            rooms=[[(f"U0ROOM{i:03d}", False)] for i in range(len(reports))],
        )
        assert round_.id is not None
        for room, (summary, points, quotes, themes) in zip(
            rooms_repo.rooms_of(s, round_id=round_.id), reports, strict=True
        ):
            assert room.id is not None
            tagged = rooms_repo.ensure_themes(s, session_id=session_id, names=themes, now=now)
            rooms_repo.add_report(
                s,
                room_id=room.id,
                submitted_by=f"U0ROOM{room.number:03d}",
                now=now,
                summary=summary,
                key_points=points,
                quotes=quotes,
                theme_ids=[t.id for t in tagged if t.id is not None],
            )
        rooms_repo.end_round(
            s, round_id=round_.id, now=now, ended_by=None, reason="deadline", remind_at=None
        )
