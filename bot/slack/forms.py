"""Opening forms: at once, within the `views.*` budget, never retried.

A form is opened with the `trigger_id` of the click or command that asked for it, which Slack
accepts for 3 seconds only: a form is not an outbox row, it is opened by the process that got
the request. It spends the same budget as everything else; when none is left in time, or Slack
refuses, the person is told in one line what to do instead of waiting for nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View

from bot.slack.budgets import Budgets

logger = logging.getLogger(__name__)

# Of the trigger's 3 seconds, how long to wait for room in the budget; the rest is the call's.
FORM_WAIT = 1.5
BUSY = (
    ":hourglass_flowing_sand: Slack is busy right now and the form could not open. "
    "Please click again in a few seconds."
)
EXPIRED = (
    ":hourglass_flowing_sand: That click is too old to open a form (Slack allows 3 seconds). "
    "Please click again."
)


def open_form(
    client: WebClient, *, trigger_id: str, view: View | dict[str, Any], tell: Callable[[str], Any]
) -> bool:
    """Open `view` for the person whose click gave `trigger_id`; False (and they are told why)
    when it could not open."""
    budgets = getattr(client, "budgets", None)
    paid: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if isinstance(budgets, Budgets):
        if not budgets.take("views.open", timeout=FORM_WAIT):
            _tell(tell, BUSY)
            return False
        paid = budgets.prepaid("views.open")
    try:
        with paid:
            client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        logger.warning("could not open a form: %s", code or error)
        _tell(tell, EXPIRED if "trigger" in code else BUSY)
        return False
    return True


def _tell(tell: Callable[[str], Any], text: str) -> None:
    try:
        tell(text)
    except Exception:
        logger.exception("could not tell someone their form did not open")
