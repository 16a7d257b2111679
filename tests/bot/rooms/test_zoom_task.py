"""The `zoom.preassign` task against the fake Zoom on loopback: Zoom is asked whether the meeting
runs before it is PATCHed, so a meeting the bot never heard start (Socket Mode on a Pro plan) is
not rewritten while it runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.assignment import Mode
from bot.clock import FixedClock
from bot.config import Settings, isolated_settings
from bot.rooms import MEETING_STARTED, BreakoutRequest, RoomService, RoundStarted, zoom_effects
from bot.rooms.zoom_task import preassign_handler
from bot.scheduler import Deadlines
from bot.sessions import SessionService
from bot.standin.zoom import FakeZoom
from bot.zoom.api import ZoomApi
from storage import outbox as outbox_store
from storage import repository as repo
from storage.db import Database
from storage.zoom import meetings as meeting_store
from storage.zoom import rooms as zoom_store
from storage.zoom.meetings import DueTask
from tests.storage.sessions import start_session

FACILITATOR = "UF"
MEETING = "81234567890"


@pytest.fixture
def fake_zoom(clock: FixedClock) -> Iterator[FakeZoom]:
    with FakeZoom(now=clock.now) as zoom:
        zoom.add_meeting(MEETING)
        yield zoom


@pytest.fixture
def settings(fake_zoom: FakeZoom) -> Settings:
    return isolated_settings(
        ZOOM_ACCOUNT_ID=fake_zoom.account_id,
        ZOOM_CLIENT_ID=fake_zoom.client_id,
        ZOOM_CLIENT_SECRET=fake_zoom.client_secret,
        ZOOM_API_URL=fake_zoom.api_url,
        ZOOM_OAUTH_URL=fake_zoom.oauth_url,
    )


@pytest.fixture
def rooms(
    sqlite_database: Database, clock: FixedClock, settings: Settings
) -> Iterator[RoomService]:
    deadlines = Deadlines()
    deadlines.start()  # the clock is years ahead: nothing fires during a test
    sessions = SessionService(sqlite_database, settings, clock)
    yield RoomService(sqlite_database, settings, clock, sessions, deadlines)
    deadlines.stop()


@pytest.fixture
def api(fake_zoom: FakeZoom) -> ZoomApi:
    return ZoomApi(
        account_id=fake_zoom.account_id,
        client_id=fake_zoom.client_id,
        client_secret=fake_zoom.client_secret,
        api_url=fake_zoom.api_url,
        oauth_url=fake_zoom.oauth_url,
    )


def _round_before_the_meeting(rooms: RoomService) -> int:
    """A round started while the bot believes the meeting has not started."""
    session_id = start_session(rooms.db, channel="C1", user=FACILITATOR)
    with rooms.db.transaction() as s:
        meeting_store.bind_meeting(s, session_id=session_id, meeting_id=MEETING)
        for user in ("U1", "U2"):
            repo.check_in(
                s,
                session_id=session_id,
                user_id=user,
                role="Member",
                place=None,
                group_name=None,
                consent_to_quote=False,
                now=rooms.clock.now(),
            )
    request = BreakoutRequest(
        rooms=1, size=None, duration=timedelta(minutes=15), mode=Mode(), prompt=None, seed=1
    )
    started = rooms.start(channel_id="C1", user_id=FACILITATOR, request=request, delivery_key=None)
    assert isinstance(started, RoundStarted), started
    return started.view.round.id or 0


def _run(rooms: RoomService, api: ZoomApi, round_id: int) -> None:
    task = DueTask(
        id=1,
        key=f"zoom.preassign:round:{round_id}",
        kind="zoom.preassign",
        session_id=1,
        args={"round_id": round_id},
        attempts=0,
        created_at=rooms.clock.now(),
    )
    assert preassign_handler(rooms)(api, task) is None


def _kinds(db: Database) -> list[str]:
    with db.read() as s:
        return [row.kind for row in outbox_store.rows(s) if row.kind in zoom_effects.ZOOM_KINDS]


def test_a_meeting_zoom_says_started_is_not_patched_and_the_facilitator_gets_the_live_case(
    rooms: RoomService, api: ZoomApi, fake_zoom: FakeZoom
) -> None:
    round_id = _round_before_the_meeting(rooms)
    fake_zoom.start_meeting(MEETING)  # no webhook, no live metrics: only Zoom knows
    _run(rooms, api, round_id)
    assert [(c.method, c.path) for c in fake_zoom.calls if c.path.startswith("/meetings")] == [
        ("GET", f"/meetings/{MEETING}")
    ]
    assert fake_zoom.meeting(MEETING)["settings"]["breakout_room"] == {"enable": False}
    with rooms.db.read() as s:
        plan = zoom_store.plan_of(s, round_id=round_id)
        assert plan is not None
        assert plan.problem == MEETING_STARTED
    assert sorted(_kinds(rooms.db)) == sorted(
        [zoom_effects.ZOOM_CSV, zoom_effects.ZOOM_WRITTEN, zoom_effects.ZOOM_PASTE]
    )


def test_a_waiting_meeting_is_patched(
    rooms: RoomService, api: ZoomApi, fake_zoom: FakeZoom
) -> None:
    round_id = _round_before_the_meeting(rooms)
    _run(rooms, api, round_id)
    assert [c.method for c in fake_zoom.calls if c.path.startswith("/meetings")] == [
        "GET",
        "PATCH",
    ]
    assert fake_zoom.meeting(MEETING)["settings"]["breakout_room"]["enable"] is True
    with rooms.db.read() as s:
        plan = zoom_store.plan_of(s, round_id=round_id)
        assert plan is not None
        assert (plan.written_at is not None, plan.problem) == (True, None)
    assert zoom_effects.ZOOM_PASTE not in _kinds(rooms.db)
