"""What Zoom polls owe Slack: notes in a poll's thread, and its results shown again once Zoom's
answers are merged.

Both go to the poll's own target (`poll:{id}`), so they come after the poll's message is
posted, and their keys start with the poll's (`poll:{id}:`), so a poll that is undone takes
them with it.
"""

from __future__ import annotations

from bot.outbox import PUBLIC, Effect
from bot.polls.effects import poll_keys, poll_target

ZOOM_POLL_NOTE = "zoom.poll.note"  # a line in the poll's thread about its Zoom side
ZOOM_POLL_RESULTS = "zoom.poll.results"  # the closed message edited, "Zoom answers added: n"

# What a note says (rendered from the poll's `zoom_poll` row when sent):
CREATED = "created"  # in the meeting: launch it from Zoom's Polls menu
REFUSED = "refused"  # Zoom would not create it; the Slack poll carries on
NOT_ADDED = "not_added"  # ZOOM_POLLS_DEFAULT, but Zoom cannot carry this poll
NO_ANSWERS = "no_answers"  # no Zoom answers came within 2 hours of the meeting
RESULTS_REFUSED = "results_refused"  # Zoom would not give the answers


def zoom_poll_note(poll_id: int, what: str) -> Effect:
    """Say something about the poll's Zoom side in its thread (each kind once per poll)."""
    return Effect(
        key=f"{poll_keys(poll_id)}zoom:{what}",
        kind=ZOOM_POLL_NOTE,
        target=poll_target(poll_id),
        priority=PUBLIC,
        args={"poll_id": poll_id, "what": what},
    )


def zoom_poll_results(poll_id: int) -> Effect:
    """Show the poll's results with Zoom's answers: its closed message edited in place, and
    "Zoom answers added: n" in its thread (once)."""
    return Effect(
        key=f"{poll_keys(poll_id)}zoom:results",
        kind=ZOOM_POLL_RESULTS,
        target=poll_target(poll_id),
        priority=PUBLIC,
        args={"poll_id": poll_id},
    )
