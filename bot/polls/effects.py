"""What a poll owes Slack after a committed change: the outbox effects, by kind and ids.

Everything about one poll's message (the post, live tallies, the final results and chart) shares
the target `poll:{id}`, so it goes out in order; a person's confirmations share `user:{id}`, so
they arrive in click order. `bot.slack.polls` renders each kind from the database when it sends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from bot.outbox import BULK, LIVE, PUBLIC, REPLY, Effect

POLL_POST = "poll.post"
POLL_LIVE = "poll.live"
POLL_FINAL = "poll.final"
POLL_EDIT = "poll.edit"  # a closed poll's message shown again, nothing re-posted (erasure)
POLL_VOTED = "poll.voted"
# An anonymous vote's confirmation names the choices, which the database does not hold per
# person: the row holds them until it is sent, and is then deleted (not kept as sent).
POLL_VOTED_ANONYMOUS = "poll.voted.anonymous"

# A poll's live tally is updated at most once every 2 s. Slack allows chat.update about 50 times
# a minute per workspace, whatever the message, so all polls together get at most 40 a minute
# (one every 1.5 s): the rest is left for everything else the bot edits.
LIVE_UPDATE_INTERVAL = 2.0
LIVE_UPDATE_SPACING = 60 / 40

USER_TARGET_PREFIX = "user:"


def poll_keys(poll_id: int) -> str:
    """The start of the key of every effect about one poll's message."""
    return f"poll:{poll_id}:"


def live_keys(poll_id: int) -> str:
    """The start of the key of every live tally of one poll."""
    return f"{poll_keys(poll_id)}live:"


def poll_target(poll_id: int) -> str:
    """The target of everything shown on one poll's message or in its thread."""
    return f"poll:{poll_id}"


def user_target(user_id: str) -> str:
    """The target of one person's private replies."""
    return f"{USER_TARGET_PREFIX}{user_id}"


def poll_post(poll_id: int, *, launched_by: str, response_url: str | None) -> Effect:
    """Post a launched poll's message; if Slack refuses, `launched_by` is told how to fix it.

    Args:
        poll_id: the poll just created.
        launched_by: the facilitator, sent a direct message when there is no `response_url`.
        response_url: the `/poll` command's own reply address (None from the form).
    """
    return Effect(
        key=f"{poll_keys(poll_id)}post",
        kind=POLL_POST,
        target=poll_target(poll_id),
        priority=PUBLIC,
        args={"poll_id": poll_id, "user_id": launched_by},
        response_url=response_url,
    )


def poll_live(poll_id: int) -> Effect:
    """Show the current tally on the poll's message (each is its own effect: unique key)."""
    return Effect(
        key=f"{live_keys(poll_id)}{uuid.uuid4().hex}",
        kind=POLL_LIVE,
        target=poll_target(poll_id),
        priority=LIVE,
        args={"poll_id": poll_id},
    )


def poll_final(poll_id: int, *, target: str | None = None) -> Effect:
    """Show a closed poll's results on its message, then its chart in the thread, once.

    Args:
        poll_id: the closed poll.
        target: what it is ordered with; the poll's own message by default. A session's end
            puts its polls' results on the session's target, ahead of "has ended".
    """
    return Effect(
        key=f"{poll_keys(poll_id)}final",
        kind=POLL_FINAL,
        target=target or poll_target(poll_id),
        priority=PUBLIC,
        args={"poll_id": poll_id},
    )


def poll_edit(poll_id: int, *, change: str) -> Effect:
    """Show a closed poll's message again as it is now, after `change` (unique per change: who
    closed it was erased, or a text it shows was rewritten). Neither the chart nor the thread's
    results are posted again."""
    return Effect(
        key=f"{poll_keys(poll_id)}{change}:edit",
        kind=POLL_EDIT,
        target=poll_target(poll_id),
        priority=BULK,
        args={"poll_id": poll_id},
    )


def vote_confirmation(
    *,
    poll_id: int,
    user_id: str,
    delivery_key: str | None,
    anonymous_choice: Sequence[int] | None = None,
    response_url: str | None = None,
) -> Effect:
    """Tell a voter, privately, what their vote now is.

    Args:
        poll_id: the poll voted in.
        user_id: the voter.
        delivery_key: the click's own key (the same for Slack's redeliveries).
        anonymous_choice: for an anonymous poll, the options chosen (shown back to the voter;
            nowhere else is it written next to who chose it).
        response_url: the click's reply address (no method tier limits it); without one the
            confirmation goes by chat.postEphemeral.
    """
    key = f"vote:{delivery_key or uuid.uuid4().hex}"
    if anonymous_choice is None:
        return Effect(
            key=key,
            kind=POLL_VOTED,
            target=user_target(user_id),
            priority=REPLY,
            args={"poll_id": poll_id, "user_id": user_id},
            private=True,
            response_url=response_url,
        )
    return Effect(
        key=key,
        kind=POLL_VOTED_ANONYMOUS,
        target=user_target(user_id),
        priority=REPLY,
        args={
            "poll_id": poll_id,
            "user_id": user_id,
            "chosen": ",".join(str(i) for i in anonymous_choice),
        },
        private=True,
        response_url=response_url,
    )


def chosen_indexes(text: str | None) -> tuple[int, ...]:
    """The option indexes an anonymous confirmation row holds ("0,2" → (0, 2))."""
    return tuple(int(part) for part in (text or "").split(",") if part.isdigit())
