"""What Zoom presence owes Slack, as outbox effects: a Slack person's email to look up, and the
facilitators' one notice that live presence is not available on the account's plan.

Keys start with the session's (`session:{id}:`), so a discarded session forgets them too.
"""

from __future__ import annotations

from bot.outbox import BULK, PUBLIC, Effect

SLACK_EMAILS = "zoom.slack_emails"  # users.info for a checked-in Slack person's email
PRESENCE_UNAVAILABLE = "zoom.presence_unavailable"  # "live presence needs Zoom Business"


def slack_email_lookup(*, session_id: int, user_id: str) -> Effect:
    """Look up a Slack participant's email (once per session), to match them to Zoom."""
    return Effect(
        key=f"session:{session_id}:zoom:email:{user_id}",
        kind=SLACK_EMAILS,
        target=f"slack-email:{user_id}",
        priority=BULK,
        args={"session_id": session_id, "user_id": user_id},
    )


def presence_unavailable(session_id: int) -> Effect:
    """Tell the session's facilitators, once, that Zoom will not give live participants."""
    return Effect(
        key=f"session:{session_id}:zoom:presence-unavailable",
        kind=PRESENCE_UNAVAILABLE,
        target=f"session:{session_id}:zoom",
        priority=PUBLIC,
        args={"session_id": session_id},
    )
