"""When a round's timed events happen, and the ids of the wake-ups that look at them.

The deadlines are data on the round's row (`warn_at`, `ends_at`, `remind_at`); the scheduler's
jobs only wake the service at those times and are rebuilt from the rows at every start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WARNING_BEFORE = timedelta(minutes=2)
# Below this length the 2-minute warning would come too early, so it comes at 80% instead.
SHORT_ROUND = WARNING_BEFORE * 5
# Rooms still without a report-back this long after the round ends get one reminder.
REMINDER_AFTER = timedelta(minutes=3)


def warning_time(start: datetime, end: datetime) -> datetime:
    """When to warn: 2 minutes before the end, or at 80% of a short round."""
    duration = end - start
    if duration >= SHORT_ROUND:
        return end - WARNING_BEFORE
    return start + timedelta(seconds=int(duration.total_seconds() * 0.8))


def warn_job_id(round_id: int) -> str:
    """The stable job id of a round's warning."""
    return f"breakout-warn:{round_id}"


def end_job_id(round_id: int) -> str:
    """The stable job id of a round's end."""
    return f"breakout-end:{round_id}"


def remind_job_id(round_id: int) -> str:
    """The stable job id of a round's reminders."""
    return f"breakout-remind:{round_id}"
