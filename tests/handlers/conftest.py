"""The real Bolt app and its listeners, dispatched in-process, with a fake Slack Web API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.bootstrap import create_app, create_services
from bot.clock import FixedClock
from bot.services import Services
from bot.standin import FakeSlack
from tests.e2e.conftest import SIGNING_SECRET, bot_settings
from tests.harness.dispatch import Dispatcher
from tests.harness.slack_limits import RATE_LIMITS


@dataclass
class InProcess:
    """The app under test, its services and the fake Slack it calls."""

    dispatcher: Dispatcher
    services: Services
    slack: FakeSlack
    clock: FixedClock


@pytest.fixture
def in_process(migrated_sqlite_url: str, clock: FixedClock) -> Iterator[InProcess]:
    with FakeSlack(rate_limits=RATE_LIMITS) as slack:
        services = create_services(bot_settings(slack, migrated_sqlite_url), clock=clock)
        app = create_app(services)
        services.start_background()
        try:
            yield InProcess(Dispatcher(app, SIGNING_SECRET), services, slack, clock)
        finally:
            services.stop_background()
        slack.assert_no_violations()
