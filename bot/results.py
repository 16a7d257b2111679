"""Result types every feature shares: expected outcomes are values, not exceptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session


@dataclass(frozen=True)
class Refusal:
    """A command that was not carried out, with the reason to show the caller."""

    message: str


@dataclass(frozen=True)
class Duplicate:
    """A redelivery of something already done: do nothing and say nothing."""


# Work a caller adds to another feature's transaction, given the id of what it created (a run
# sheet recording the step that launched a poll); whatever it raises undoes the transaction.
Within = Callable[[Session, int], None]
