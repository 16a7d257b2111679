"""Plain rows read from storage, and the aggregated tour report built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


@dataclass(frozen=True)
class SessionRow:
    """A session as the report lists it."""

    id: int
    title: str
    started_at: datetime
    area: str | None
    group_type: str | None


@dataclass(frozen=True)
class PersonRow:
    """A checked-in person of one session, with the attributes the report breaks down by."""

    session_id: int
    user_id: str
    role: str | None
    place: str | None
    group_name: str | None


@dataclass(frozen=True)
class PollRow:
    """One poll as asked in one session."""

    id: int
    session_id: int
    key: str
    question: str
    options: tuple[str, ...]
    multi: bool
    anonymous: bool
    # Still open with --hide-results: nobody may see its figures yet, only how many voted.
    hidden: bool = False
    # Shown as of an earlier time (a posted summary rebuilt) while it was still open: votes are
    # stored without a time, so what they were then is not known; none are read for it.
    open_then: bool = False


class VoteRow(NamedTuple):
    """A named vote: who chose which option (never read for anonymous polls).

    A tuple, not a dataclass: a tour has hundreds of thousands of these.
    """

    poll_id: int
    user_id: str
    option_index: int


@dataclass(frozen=True)
class AnonymousTally:
    """An anonymous poll's totals: voters, and how many ballots chose each option."""

    poll_id: int
    voters: int
    counts: tuple[int, ...]


def quote_label(quote_id: int) -> str:
    """How a quote id is printed in exports and the report: "q17"."""
    return f"q{quote_id}"


@dataclass(frozen=True)
class QuoteRow:
    """A consented quote with its attribution and theme tags."""

    session_id: int
    text: str
    role: str | None
    place: str | None
    themes: tuple[str, ...]
    quote_id: int | None = None  # printed in small print ("q17") so an organiser can find it


@dataclass(frozen=True)
class BreakdownRow:
    """A stored slice of a purged session: how many people of one role, place or group answered
    a poll (and chose each of its options), or checked in (`poll_id` None)."""

    session_id: int
    poll_id: int | None
    source: str  # "Slack" or "Zoom"; "" for check-ins
    dimension: str  # "role", "place" or "group"
    value: str
    people: int
    counts: tuple[int, ...] = ()


@dataclass
class ReportInput:
    """Everything the tour report is built from."""

    sessions: list[SessionRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    polls: list[PollRow] = field(default_factory=list)
    votes: list[VoteRow] = field(default_factory=list)
    anonymous: list[AnonymousTally] = field(default_factory=list)
    quotes: list[QuoteRow] = field(default_factory=list)
    # Answers merged from Zoom meetings: named polls' by the respondent's participant id (the
    # matched person's, so they break down by their check-in), anonymous polls' as totals.
    zoom_votes: list[VoteRow] = field(default_factory=list)
    zoom_anonymous: list[AnonymousTally] = field(default_factory=list)
    # Purged sessions: their breakdowns as stored before their people were erased.
    breakdowns: list[BreakdownRow] = field(default_factory=list)


@dataclass(frozen=True)
class Share:
    """How many chose one option, and what whole percentage of n that is."""

    label: str
    count: int
    percent: int


@dataclass(frozen=True)
class Result:
    """A poll's result for one slice of people (all, a group, a role or a session)."""

    name: str
    n: int
    shares: tuple[Share, ...]
    # A hidden row (bot.report.small_groups): its name only, n 0 and no shares, and what it reads
    # instead ("fewer than 5", or "not shown" for a larger row hidden with a small one).
    hidden: bool = False
    hidden_label: str = ""


@dataclass(frozen=True)
class PollAggregate:
    """One poll key across every session it was asked in."""

    key: str
    question: str
    multi: bool
    overall: Result
    by_group: tuple[Result, ...]
    by_role: tuple[Result, ...]
    by_session: tuple[tuple[SessionRow, Result], ...]
    # Answers from anonymous polls count in `overall` and `by_session` but cannot be broken down.
    anonymous_answers: int
    # Slack's and Zoom's answers apart ("Slack", "Zoom"), when some came from Zoom; `overall`
    # is both together, a person who answered in both counted once (their Slack vote).
    by_source: tuple[Result, ...] = ()


@dataclass(frozen=True)
class Quote:
    """A quote as printed: verbatim text and "Role, Place"."""

    text: str
    attribution: str
    session_title: str
    quote_id: int | None = None


@dataclass(frozen=True)
class Theme:
    """Quotes under one theme: a report-back tag, or a group of similar untagged quotes."""

    label: str
    tagged: bool
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class TourAttendance:
    """Attendance totals across the sessions in the report."""

    sessions: int
    people: int
    check_ins: int
    # A hidden row's count is what it reads instead, e.g. "fewer than 5" (bot.report.small_groups).
    by_role: tuple[tuple[str, int | str], ...]
    by_group: tuple[tuple[str, int | str], ...]


@dataclass(frozen=True)
class TourReport:
    """The tour-wide report, ready to render."""

    generated_at: datetime
    since: datetime | None
    until: datetime | None
    sessions: tuple[SessionRow, ...]
    attendance: TourAttendance
    polls: tuple[PollAggregate, ...]
    themes: tuple[Theme, ...]
    # Set by bot.report.small_groups: the note when any row is hidden.
    hidden_note: str = ""
