"""Follow-up steps run after Slack has its answer, each failure isolated."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)


def run_each(steps: Iterable[Callable[[], object]], *, what: str) -> None:
    """Run every step in order; one failing (Slack down, a deleted message) is logged and does
    not stop the others."""
    for step in steps:
        try:
            step()
        except Exception:
            logger.exception("%s: a step failed", what)
