"""The tables a purge leaves behind (counts, never people), and the tokens erased ids become."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlmodel import Field, SQLModel

from storage.models import ATTRIBUTE_MAX, fk_column, utc_column

# An erased person's ids are replaced by random tokens: one per id for their check-ins (so the
# count of people stays; a purge gives one per check-in, see `ELSEWHERE`), one per id and poll
# for their votes (so votes in different polls cannot be linked). Nothing derives a token from
# the id, so nothing leads back to it.
ERASED_PREFIX = "erased-"

# `PollBreakdown.dimension`: the attributes a check-in gives.
ROLE, PLACE, GROUP = "role", "place", "group"
# For check-ins: how many of the session's people are counted by other sessions, whose ids
# `counts` lists (the report's count of distinct people takes them off when it holds one of
# those: see `counted_elsewhere`); `counts` "[]": by any (rows stored before the list was).
ELSEWHERE = "elsewhere"
# `PollBreakdown.value` of the row that holds a session's small groups together (with any rows
# hidden with them: see bot.report.small_groups.merge_small): never a value a person gives,
# whose answers are stripped of leading whitespace, "\x1f" among it.
SMALL_GROUPS = "\x1fsmall groups"
SOURCE_MAX = 8


def table_of(model: Any) -> Table:
    """A SQLModel table class's Core table."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# An erased person's token where their id or email was typed into a text (a report-back, a
# quote, a role): outputs show it as they show an erased person's mention.
_TOKEN_IN_TEXT = re.compile(re.escape(ERASED_PREFIX) + r"[0-9a-f]{16}\b")
ERASED_SHOWN = "someone (erased)"  # how every output shows an erased person


def shown_erased(text: str) -> str:
    """`text` with each erased person's token in it as outputs show them (ERASED_SHOWN)."""
    return _TOKEN_IN_TEXT.sub(ERASED_SHOWN, text) if ERASED_PREFIX in text else text


def erased_token() -> str:
    """A new random token standing for an erased id ("erased-" and 16 hex digits)."""
    return ERASED_PREFIX + secrets.token_hex(8)


def is_erased(user_id: str | None) -> bool:
    """Whether a stored user id is an erased person's token."""
    return bool(user_id) and str(user_id).startswith(ERASED_PREFIX)


class PollBreakdown(SQLModel, table=True):
    """One slice of a purged session's figures: how many people of one role, place or group
    answered a poll (and chose each option), or checked in (`poll_id` None). Kept when the
    session's people are erased, so the tour report shows the same breakdowns afterwards."""

    __tablename__ = "poll_breakdown"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(sa_column=fk_column("listening_session.id"))
    poll_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("poll.id", ondelete="CASCADE"), index=True),
    )
    # "Slack" or "Zoom" for a poll's answers; "" for check-ins.
    source: str = Field(sa_column=Column(String(SOURCE_MAX), nullable=False))
    # ROLE, PLACE or GROUP; ELSEWHERE for check-ins (`value` empty, `counts` session ids)
    dimension: str = Field(sa_column=Column(String(16), nullable=False))
    value: str = Field(sa_column=Column(String(ATTRIBUTE_MAX), nullable=False))
    people: int = Field(sa_column=Column(Integer, nullable=False))
    # JSON list: how many of them chose each of the poll's options, in order ("[]": check-ins;
    # for ELSEWHERE, the ids of the sessions that count them).
    counts: str = Field(sa_column=Column(Text, nullable=False))


class SessionPurge(SQLModel, table=True):
    """A session whose people were erased by a purge, and when (it is purged once)."""

    __tablename__ = "session_purge"

    session_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("listening_session.id", ondelete="CASCADE"), primary_key=True
        )
    )
    purged_at: datetime = Field(sa_column=utc_column(nullable=False))
