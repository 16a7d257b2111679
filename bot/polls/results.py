"""What poll operations return: a poll's state, a vote's outcome, a launch or close.

Expected outcomes are values, not exceptions (see `bot.results` for `Refusal` and `Duplicate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.report.percent import whole_percentages
from bot.report.small_groups import rows_to_hide
from bot.results import Duplicate, Refusal
from storage import polls as store
from storage.polls import Poll, Tally
from storage.zoom.polls import ZoomTally

# What a refused request is told.
UNKNOWN_POLL = "That poll no longer exists, so nothing was recorded."
NOT_A_POLL_BUTTON = "That button is not from a poll I know, so nothing was recorded."
NOTHING_OPEN = "There is no open poll in this channel to close."
NO_CHOICE = "Please choose at least one option."


def bar_cells(count: int, voters: int, width: int = 10) -> int:
    """How many of `width` cells a bar for `count` of `voters` fills (never 0 for a vote)."""
    if voters <= 0 or count <= 0:
        return 0
    return max(1, min(width, round(width * count / voters)))


@dataclass(frozen=True)
class PollState:
    """A poll with its options and current tally: everything its message shows.

    `tally` is Slack's; `zoom` the answers merged from the Zoom meeting (None: none merged);
    `min_group` is REPORT_MIN_GROUP (see `sources_hidden`).
    """

    poll: Poll
    options: tuple[str, ...]
    tally: Tally
    zoom: ZoomTally | None = None
    min_group: int = 1

    @property
    def sources_hidden(self) -> bool:
        """Whether how many answered in Slack and in Zoom is not shown, nor what each chose:
        one of them has fewer than `min_group` people (and, the total being shown, the other
        would give it away)."""
        if self.zoom is None:
            return False
        voters = [self.tally.voters, self.zoom.voters]
        return bool(rows_to_hide(voters, min_group=self.min_group))

    @property
    def id(self) -> int:
        """The poll's id."""
        assert self.poll.id is not None
        return self.poll.id

    @property
    def closed(self) -> bool:
        """Whether the poll has closed."""
        return self.poll.closed_at is not None

    @property
    def combined(self) -> Tally:
        """Slack's and Zoom's answers together (Slack's alone when none came from Zoom)."""
        if self.zoom is None:
            return self.tally
        return Tally(
            tuple(a + b for a, b in zip(self.tally.counts, self.zoom.counts, strict=True)),
            self.tally.voters + self.zoom.voters,
        )

    def percents(self) -> list[int]:
        """Whole percentages of everyone who answered (both sources), per option."""
        combined = self.combined
        return whole_percentages(combined.counts, combined.voters, exclusive=not self.poll.multi)

    def source_percents(self, tally: Tally | ZoomTally) -> list[int]:
        """Whole percentages of one source's answers, per option."""
        return whole_percentages(tally.counts, tally.voters, exclusive=not self.poll.multi)


@dataclass(frozen=True)
class Click:
    """One click (or anonymous ballot) waiting to be written."""

    poll_id: int
    option_indexes: tuple[int, ...]
    user_id: str
    channel_id: str | None
    delivery_key: str | None
    response_url: str | None = None  # where the click's confirmation goes, if it had one


@dataclass(frozen=True)
class Counted:
    """A click's committed effect: the person's choices afterwards."""

    target: store.VoteTarget
    chosen: tuple[int, ...]


@dataclass(frozen=True)
class VoteRecorded:
    """A committed vote, with what the confirmation says."""

    poll_id: int
    session_id: int
    channel_id: str
    chosen: tuple[str, ...]
    multi: bool
    anonymous: bool
    closes_at: datetime
    checked_in: bool


@dataclass(frozen=True)
class PollClosed:
    """A vote refused because the poll had closed."""

    closed_at: datetime


@dataclass(frozen=True)
class AlreadyVoted:
    """A second vote in an anonymous poll, refused because anonymous votes cannot change."""


@dataclass(frozen=True)
class Launched:
    """A poll created and waiting for its message to be posted."""

    state: PollState


@dataclass(frozen=True)
class ClosedNow:
    """A poll closed by `/poll close`; its results are announced next."""

    poll_id: int


VoteOutcome = VoteRecorded | PollClosed | AlreadyVoted | Refusal | Duplicate
