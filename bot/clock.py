"""Time as a dependency, so tests can set it instead of waiting for it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time (aware, UTC)."""

    def now(self) -> datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (for tests and benchmarks)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        """The time this clock was set to."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta


class ScaledClock:
    """A clock running `speed` times faster than real time, from `start` (for rehearsals).

    Deadlines are stored in this clock's time; `wall_time` turns one into the real moment at
    which it falls, so the scheduler wakes the bot at the right real time.
    """

    def __init__(
        self,
        speed: float,
        *,
        start: datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError("a clock's speed must be positive")
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()
        self._start = start or datetime.now(UTC)
        self._held: datetime | None = None

    def now(self) -> datetime:
        """The scaled time."""
        if self._held is not None:
            return self._held
        elapsed = (self._monotonic() - self._origin) * self.speed
        return self._start + timedelta(seconds=elapsed)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Stop this clock while the block runs, then let it go on from where it stopped.

        A rehearsal holds it while its simulated people click, so that at 300 times real speed
        a one-minute poll still gets everyone's vote. A deadline job that fires meanwhile finds
        its deadline not reached (the stored deadline decides) and is scheduled again.
        """
        stopped = self.now()
        self._held = stopped
        try:
            yield
        finally:
            self._start = stopped
            self._origin = self._monotonic()
            self._held = None

    def wall_time(self, moment: datetime) -> datetime:
        """The real (system) time at which this clock reads `moment`."""
        return datetime.now(UTC) + (moment - self.now()) / self.speed

    def real_seconds(self, delta: timedelta) -> float:
        """How many real seconds `delta` of this clock's time takes."""
        return delta.total_seconds() / self.speed


def wall_time(clock: Clock, moment: datetime) -> datetime:
    """The real moment at which `clock` reads `moment` (the same moment unless it runs faster)."""
    return clock.wall_time(moment) if isinstance(clock, ScaledClock) else moment


def real_seconds_until(clock: Clock, moment: datetime) -> float:
    """How many real seconds until `clock` reads `moment` (negative once it has passed)."""
    delta = moment - clock.now()
    return clock.real_seconds(delta) if isinstance(clock, ScaledClock) else delta.total_seconds()
