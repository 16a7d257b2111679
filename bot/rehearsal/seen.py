"""What the simulated people look at: the buttons of a message, and the poll or round as
the bot stored it."""

from __future__ import annotations

from typing import Any

from bot.services import Services
from storage import polls as poll_store
from storage import rooms as room_store
from storage.polls import Poll
from storage.rooms import BreakoutRound


def message_buttons(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, button) for every button of a message's actions blocks."""
    found = []
    for block in message.get("blocks") or []:
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if element.get("type") == "button":
                    found.append((str(block.get("block_id") or ""), element))
    return found


def message_button(message: dict[str, Any], action_id: str) -> tuple[str, dict[str, Any]]:
    for block, button in message_buttons(message):
        if button.get("action_id") == action_id:
            return block, button
    raise RuntimeError(f"no {action_id} button in the message")


def poll_closed(services: Services, poll_id: int) -> bool:
    with services.db.read() as db:
        poll = poll_store.get_poll(db, poll_id=poll_id)
    return poll is not None and poll.closed_at is not None


def stored_poll(services: Services, poll_id: int) -> Poll:
    """The poll as stored now."""
    with services.db.read() as db:
        found = poll_store.get_poll(db, poll_id=poll_id)
    assert found is not None
    return found


def breakout_round(services: Services, round_id: int) -> BreakoutRound:
    """The round as stored now."""
    with services.db.read() as db:
        found = room_store.get_round(db, round_id=round_id)
    assert found is not None
    return found
