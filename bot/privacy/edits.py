"""The edits an erasure owes Slack: every posted message that named the people erased is shown
again from the database (where they are tokens now, rendered "someone (erased)").

Queued in the erasure's transaction, through the outbox (the running bot sends them); each key
holds a change id of its own, so a later erasure edits the same message again. Ephemeral replies
and direct messages cannot be edited and are left as they are.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Session

from bot.outbox import Effect, queue_all
from bot.polls.effects import poll_edit, poll_live
from bot.rooms.effects import note_edit, report_channel_edit, report_thread_edit, room_refresh
from bot.sessions.effects import session_ended_edit, session_refresh
from bot.summaries.effects import summaries_shown_again
from storage import privacy


def erasure_edits(erased: privacy.Erased, *, change: str) -> list[Effect]:
    """An edit of each posted message `erased` found naming the people: the rooms' messages,
    report-backs' thread posts and compact channel posts, rooms' thread notes, sessions' messages
    and "has ended" posts, closed polls' messages, and sessions' posted summaries."""
    return [
        *(room_refresh(r, room, change=change) for r, room in sorted(erased.rooms)),
        *(
            report_thread_edit(r, room, report, change=change)
            for r, room, report in sorted(erased.reports)
        ),
        *(note_edit(r, note, change=change) for r, note in sorted(erased.notes)),
        *(session_refresh(s, change=change) for s in sorted(erased.session_messages)),
        *(session_ended_edit(s, change=change) for s in sorted(erased.session_ends)),
        *(poll_edit(p, change=change) for p in sorted(erased.closed_polls)),
        # An open poll's message is a live tally: shown again as one, not ahead of its tallies.
        *(poll_live(p) for p in sorted(erased.open_polls)),
        *(
            report_channel_edit(r, room, change=change)
            for r, room in sorted(erased.channel_reports)
        ),
        *(summaries_shown_again(s, change=change) for s in sorted(erased.summaries)),
    ]


def queue_erasure_edits(s: Session, erased: privacy.Erased, *, now: datetime) -> int:
    """Queue the edits of `erased` in the caller's transaction; returns how many were queued."""
    change = f"erase:{uuid.uuid4().hex[:12]}"
    return queue_all(s, erasure_edits(erased, change=change), now=now)
