"""A person's data: a copy of everything stored about them, and erasing them everywhere.

Erasing keeps what the tour's figures need (each vote as an unlinked count, each check-in as a
count, each report-back under its room) and drops every link to the person; the posts in Slack
that named them are edited through the outbox (`bot.privacy.edits`); then the database's own
history of the old rows is scrubbed. `storage.privacy.erasure` says what each table gets.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.privacy.edits import queue_erasure_edits
from storage import privacy
from storage.db import Database

SCRUB_TRIES = 5
SCRUB_PAUSE_S = 0.5


class NothingStored(Exception):
    """Nothing is stored about the person asked for (an unknown id, or erased already)."""


class StillVoting(Exception):
    """The person answered a poll that is still open: erased, they could vote in it again."""

    def __init__(self, polls: list[privacy.OpenPoll]) -> None:
        super().__init__(polls)
        self.polls = polls


@dataclass(frozen=True)
class Forgotten:
    """What erasing a person changed."""

    erased: privacy.Erased
    edits: int  # posted messages queued to be edited (those that named them)
    scrubbed: bool  # False: a busy database kept some old row versions for now


def export_person(db: Database, who: str, *, now: datetime) -> dict[str, Any]:
    """Everything stored about `who` (a Slack user id or an email), JSON-ready.

    Raises:
        NothingStored: nothing is stored about them.
    """
    with db.read() as s:
        person = privacy.find_person(s, who=who)
        record = privacy.person_record(s, person=person)
    if not privacy.holds_anything(record):
        raise NothingStored(who)
    return {"who": who, "exported_at": now.isoformat(), **record}


def forget_person(db: Database, who: str, *, now: datetime) -> Forgotten:
    """Erase `who` (a Slack user id or an email) from every session, in one transaction.

    Raises:
        NothingStored: nothing is stored about them (nothing changes).
        StillVoting: they answered a poll still open (nothing changes): their vote would be
            unlinked from them while they can still click again.
    """
    with db.transaction() as s:
        person = privacy.find_person(s, who=who)
        if not privacy.holds_anything(privacy.person_record(s, person=person)):
            raise NothingStored(who)
        still_open = privacy.open_polls(s, user_ids=person.user_ids)
        if still_open:
            raise StillVoting(still_open)
        erased = privacy.erase(s, person=person, thorough=True)
        edits = queue_erasure_edits(s, erased, now=now)
    return Forgotten(erased, edits, scrub(db, erased.tables))


def scrub(db: Database, tables: Collection[str]) -> bool:
    """Scrub the history of `tables` (and the outbox, which names people): a few tries, since a
    running bot's transactions keep old row versions while they last."""
    for attempt in range(SCRUB_TRIES):
        if attempt:
            time.sleep(SCRUB_PAUSE_S)
        if privacy.scrub_history(db, {*tables, "outbox"}):
            return True
    return False


def counts_line(erased: privacy.Erased) -> str:
    """ "3 check-ins, 5 votes (kept as unlinked counts), …" in a fixed order."""
    return ", ".join(
        f"{erased.counts[kind]} {kind}" for kind in privacy.KINDS if erased.counts[kind]
    )
