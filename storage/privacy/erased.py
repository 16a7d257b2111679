"""What an erasure changed: the rows per kind, and the posted messages that named the people
(so the bot can edit their mentions out), and the tables touched."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

# What `Erased.counts` counts, in the order the CLI prints them.
CHECK_INS = "check-ins"
VOTES = "votes (kept as unlinked counts)"
ZOOM_ANSWERS = "Zoom poll answers (kept as unlinked counts)"
ROOMS = "room memberships"
REPORTS = "report-backs (kept, attributed to their room)"
NOTES = "room thread notes (kept, naming nobody)"
FACILITATION = "facilitator records"
ZOOM_PEOPLE = "Zoom people"
ZOOM_VISITS = "Zoom room visits"
ZOOM_TASKS = "Zoom tasks"
EMAILS = "Slack email mappings"
OUTBOX_DELETED = "unsent messages deleted"
OUTBOX_REWRITTEN = "sent messages' records rewritten"
DELIVERIES = "delivery records"
OTHER = "other mentions"
KINDS = (
    CHECK_INS,
    VOTES,
    ZOOM_ANSWERS,
    ROOMS,
    REPORTS,
    NOTES,
    FACILITATION,
    ZOOM_PEOPLE,
    ZOOM_VISITS,
    ZOOM_TASKS,
    EMAILS,
    OUTBOX_DELETED,
    OUTBOX_REWRITTEN,
    DELIVERIES,
    OTHER,
)


@dataclass
class Erased:
    """What an erasure changed: rows per kind, the posted messages that named the people (each
    has its ts stored, so it can be edited), and the tables it touched (whose old row versions
    must go)."""

    counts: Counter[str] = field(default_factory=Counter)
    rooms: set[tuple[int, int]] = field(default_factory=set)  # (round id, room id)
    # (round id, room id, report id): report-back versions whose thread post named the submitter
    reports: set[tuple[int, int, int]] = field(default_factory=set)
    notes: set[tuple[int, int]] = field(default_factory=set)  # (round id, note id) naming them
    # Open sessions whose message says "Started by" them.
    session_messages: set[int] = field(default_factory=set)
    # Sessions whose posted "has ended" says "Ended by" them.
    session_ends: set[int] = field(default_factory=set)
    closed_polls: set[int] = field(default_factory=set)  # posted polls: "Closed by" them, a text
    open_polls: set[int] = field(default_factory=set)  # open polls showing a rewritten text
    # (round id, room id): rooms whose compact channel post showed a rewritten text
    channel_reports: set[tuple[int, int]] = field(default_factory=set)
    summaries: set[int] = field(default_factory=set)  # sessions whose posted summaries did
    tables: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        """How many rows changed."""
        return sum(self.counts.values())

    def add(self, kind: str, table: str, count: int) -> None:
        """Count `count` rows of `table` changed as `kind`."""
        if count:
            self.counts[kind] += count
            self.tables.add(table)

    def update(self, other: Erased) -> None:
        """Add what another erasure in the same transaction changed."""
        self.counts.update(other.counts)
        self.rooms |= other.rooms
        self.reports |= other.reports
        self.notes |= other.notes
        self.session_messages |= other.session_messages
        self.session_ends |= other.session_ends
        self.closed_polls |= other.closed_polls
        self.open_polls |= other.open_polls
        self.channel_reports |= other.channel_reports
        self.summaries |= other.summaries
        self.tables |= other.tables
