"""The poll service's scheduled wake-ups: stable job ids and how long to wait before a retry.

The deadlines themselves are stored on the poll rows; these jobs only look at them on time.
"""

from __future__ import annotations

from datetime import timedelta

FORGET_HISTORY_JOB_ID = "anonymous-ballots-forget-history"
FORGET_HISTORY_RETRY = timedelta(seconds=15)
# A close job woken before the deadline (by the wall clock's reckoning) tries again this long
# after the deadline.
EARLY_RETRY = timedelta(milliseconds=20)


def close_job_id(poll_id: int) -> str:
    """The stable id of a poll's deadline job."""
    return f"poll-close-{poll_id}"
