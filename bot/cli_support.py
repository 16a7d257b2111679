"""What the CLI commands share: the one-line error they exit with, and who sends their posts."""

from __future__ import annotations

from storage import leader
from storage.db import Database
from storage.filelock import is_held


class UserError(Exception):
    """A mistake in the command line the user can fix; printed as one line, exit code 2."""


def who_sends(db: Database) -> str:
    """What happens to the posts a CLI command just queued (edits of messages already posted):
    the running bot sends them within 2 s (it reads the outbox every half second), or the next
    bot to start on this database does."""
    if db.is_sqlite:
        running = is_held(db.url)
    else:
        with db.read() as session:
            running = leader.leader_running(session)
    if running:
        return "the running bot posts the changes in Slack within 2 seconds"
    return "no bot is running on this database: the changes are posted in Slack when it next starts"


def history_line(scrubbed: bool) -> str:
    """What a command that erased rows says of the database's history of them."""
    if scrubbed:
        return "the database's history of the erased rows is scrubbed too"
    return (
        "the database was busy, so some earlier versions of the erased rows remain in its "
        "files: run the command again when the bot is quieter"
    )
