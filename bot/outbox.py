"""Effects: what the bot owes Slack after a committed change, queued in the same transaction.

Domain code never posts. It decides that something must be shown ("poll 12's final results",
"tell U123 their room") and queues an `Effect` with the change that causes it; `bot.slack.sender`
renders it from the database and sends it within Slack's limits, retrying until it is done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from storage import outbox as store
from storage.outbox import ArgValue

# Priorities, most urgent first: an answer to something a person just did, public posts people
# are watching, live tallies (only the latest matters), bulk notices.
REPLY = 0
PUBLIC = 1
LIVE = 2
BULK = 3

# "You can change it until 19:42" read at 21:00 misleads: private answers older than this go.
PRIVATE_REPLY_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class Effect:
    """One post the bot owes, by kind and the ids it is about (never rendered text).

    Args:
        key: unique per effect ("poll:12:final"); queuing the same key again does nothing.
        kind: what to do, e.g. "poll.final"; `bot.slack` has a sender for each kind.
        target: effects on the same message or thread share it and go out in queue order.
        priority: REPLY, PUBLIC, LIVE or BULK.
        args: the ids the effect is about.
        private: an answer to a person, dropped if it cannot be sent within PRIVATE_REPLY_TTL.
        response_url: the request's own reply address, where it had one.
        delay: how long after the commit it may go.
    """

    key: str
    kind: str
    target: str
    priority: int
    args: Mapping[str, ArgValue] = field(default_factory=dict)
    private: bool = False
    response_url: str | None = None
    delay: timedelta = timedelta(0)


def queue(db: Session, effect: Effect, *, now: datetime) -> bool:
    """Queue `effect` in the caller's transaction; False if its key was queued before."""
    return store.enqueue(
        db,
        key=effect.key,
        kind=effect.kind,
        target=effect.target,
        priority=effect.priority,
        args=effect.args,
        now=now,
        due_at=now + effect.delay,
        expires_at=now + PRIVATE_REPLY_TTL if effect.private else None,
        response_url=effect.response_url,
    )


def queue_all(db: Session, effects: list[Effect], *, now: datetime) -> int:
    """Queue several effects in order; returns how many were new."""
    return sum(queue(db, effect, now=now) for effect in effects)
