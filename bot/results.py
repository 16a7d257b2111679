"""Result types every feature shares: expected outcomes are values, not exceptions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """A command that was not carried out, with the reason to show the caller."""

    message: str


@dataclass(frozen=True)
class Duplicate:
    """A redelivery of something already done: do nothing and say nothing."""
