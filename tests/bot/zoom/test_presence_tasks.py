"""The Zoom worker's presence tasks against the fake Zoom on loopback: registrants (paginated)
become check-ins; live metrics polled as snapshots until the session ends, stopped (and the
facilitators told once) on a plan below Business."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.config import Settings, isolated_settings
from bot.standin.zoom import FakeZoom
from bot.standin.zoom.state import iso
from bot.zoom.api import ZoomApi
from bot.zoom.health import ZoomHealth
from bot.zoom.presence import ZoomPresence, queue_metrics, queue_registrants
from bot.zoom.presence_effects import PRESENCE_UNAVAILABLE
from bot.zoom.presence_tasks import REFUSED, PresenceTasks
from bot.zoom.tasks import ZoomWorker
from storage import repository as repo
from storage.db import Database
from storage.models import Participant
from storage.outbox import OutboxRow
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom.meetings import ZoomTask

MEETING_ID = "81234567890"


@pytest.fixture
def fake_zoom(clock: FixedClock) -> Iterator[FakeZoom]:
    with FakeZoom(now=clock.now) as zoom:
        zoom.add_meeting(MEETING_ID, topic="Durham", registration=True)
        yield zoom


@pytest.fixture
def settings(fake_zoom: FakeZoom) -> Settings:
    return isolated_settings(
        ZOOM_ACCOUNT_ID=fake_zoom.account_id,
        ZOOM_CLIENT_ID=fake_zoom.client_id,
        ZOOM_CLIENT_SECRET=fake_zoom.client_secret,
        ZOOM_API_URL=fake_zoom.api_url,
        ZOOM_OAUTH_URL=fake_zoom.oauth_url,
        ZOOM_GROUP_QUESTION="Branch",
    )


@pytest.fixture
def worker(
    sqlite_database: Database, clock: FixedClock, settings: Settings, fake_zoom: FakeZoom
) -> ZoomWorker:
    api = ZoomApi(
        account_id=fake_zoom.account_id,
        client_id=fake_zoom.client_id,
        client_secret=fake_zoom.client_secret,
        api_url=fake_zoom.api_url,
        oauth_url=fake_zoom.oauth_url,
    )
    worker = ZoomWorker(sqlite_database, clock, api, ZoomHealth(sqlite_database, clock))
    PresenceTasks(sqlite_database, clock, settings).register(worker)
    return worker


def start_session(db: Database, clock: FixedClock) -> int:
    with db.transaction() as unit:
        session = repo.create_session(
            unit,
            channel_id="C1",
            title="Durham",
            area=None,
            group_type=None,
            zoom_meeting_id=MEETING_ID,
            started_by="U0FACIL",
            now=clock.now(),
        )
        assert session.id is not None
        meeting_store.bind_meeting(unit, session_id=session.id, meeting_id=MEETING_ID)
        return session.id


def participants(db: Database, session_id: int) -> dict[str, Participant]:
    with db.read() as unit:
        rows = unit.exec(select(Participant).where(Participant.session_id == session_id)).all()
        return {row.user_id: row for row in rows}


def task(db: Database, kind: str) -> ZoomTask:
    with db.read() as unit:
        return unit.exec(select(ZoomTask).where(ZoomTask.kind == kind)).one()


def registrant(number: int, **answers: str) -> dict[str, Any]:
    return {
        "id": f"reg-{number}",
        "email": f"person{number}@example.org",
        "first_name": f"Person {number}",
        "last_name": "",
        "custom_questions": [{"title": title, "value": value} for title, value in answers.items()],
    }


def test_registrants_on_every_page_check_in_with_their_answers(
    sqlite_database: Database, clock: FixedClock, worker: ZoomWorker, fake_zoom: FakeZoom
) -> None:
    db = sqlite_database
    session_id = start_session(db, clock)
    with db.transaction() as unit:
        repo.check_in(
            unit,
            session_id=session_id,
            user_id="U0ADA",
            role="Councillor",
            place=None,
            group_name=None,
            consent_to_quote=True,
            now=clock.now(),
        )
        people_store.record_slack_email(
            unit, user_id="U0ADA", email="person0@example.org", now=clock.now()
        )
    rows = [registrant(n, Role="Member", Place="Stoke", Branch="CLP") for n in range(450)]
    rows.append(registrant(999))  # no answers
    fake_zoom.set_registrants(MEETING_ID, rows)
    with db.transaction() as unit:
        queue_registrants(unit, session_id, clock.now())
    assert worker.run_due() == 1
    calls = [c for c in fake_zoom.calls if c.path.endswith("/registrants")]
    assert len(calls) == 2  # 300 a page
    people = participants(db, session_id)
    zoom_only = [p for user_id, p in people.items() if people_store.is_zoom_only(user_id)]
    assert len(zoom_only) == 449
    assert {(p.role, p.place, p.group_name) for p in zoom_only} == {("Member", "Stoke", "CLP")}
    assert all(p.checked_in_at == clock.now() for p in zoom_only)
    # Ada registered too, with the email Slack gave for her: her Slack check-in stands.
    assert (people["U0ADA"].role, people["U0ADA"].place) == ("Councillor", None)
    with db.read() as unit:
        assert (
            people_store.user_for_email(unit, session_id=session_id, email="Person0@example.org")
            == "U0ADA"
        )
        assert (
            people_store.user_for_email(unit, session_id=session_id, email="person999@example.org")
            is not None
        )
    assert task(db, "zoom.registrants").failed is None


def test_a_meeting_without_registration_has_no_registrants(
    sqlite_database: Database, clock: FixedClock, worker: ZoomWorker, fake_zoom: FakeZoom
) -> None:
    fake_zoom.add_meeting(MEETING_ID, topic="Durham", registration=False)
    session_id = start_session(sqlite_database, clock)
    with sqlite_database.transaction() as unit:
        queue_registrants(unit, session_id, clock.now())
    worker.run_due()
    failed = task(sqlite_database, "zoom.registrants").failed
    assert failed is not None
    assert "Registration has not been enabled" in failed
    assert participants(sqlite_database, session_id) == {}


def live_row(who: str, joined: Any, *, room: str = "", left: Any = None) -> dict[str, Any]:
    return {
        "id": "",
        "user_id": str(zlib.crc32(f"{who}{room}".encode())),
        "participant_uuid": f"uuid-{who}",
        "user_name": who.title(),
        "email": "",
        "join_time": iso(joined),
        "leave_time": iso(left) if left else "",
        "status": "in_meeting",
        "bo_mtg_id": room,
    }


def test_live_metrics_are_polled_as_snapshots_until_the_session_ends(
    sqlite_database: Database,
    clock: FixedClock,
    worker: ZoomWorker,
    fake_zoom: FakeZoom,
    settings: Settings,
) -> None:
    db = sqlite_database
    session_id = start_session(db, clock)
    t = clock.now()
    fake_zoom.set_live_participants(
        MEETING_ID,
        [live_row("ada", t), live_row("bob", t), live_row("bob", t, room="room==")]
        + [live_row(f"guest{n}", t) for n in range(300)],
    )
    with db.transaction() as unit:
        queue_metrics(unit, session_id, clock.now())
    assert worker.run_due() == 1
    with db.read() as unit:
        assert len(people_store.present_user_ids(unit, session_id=session_id)) == 302
        [(room, bob)] = people_store.rooms_now(unit, session_id=session_id).items()
        counts = people_store.presence_counts(unit, session_id=session_id)
    assert room == "room=="
    assert len(bob) == 1
    assert counts.source == people_store.FROM_METRICS
    pages = [c for c in fake_zoom.calls if "/metrics/" in c.path]
    assert len(pages) == 2
    assert pages[0].query == {"type": "live", "page_size": "300"}
    # Nothing more until ZOOM_METRICS_SECONDS have passed.
    assert worker.run_due() == 0
    assert task(db, "zoom.metrics").due_at == t + timedelta(seconds=settings.ZOOM_METRICS_SECONDS)
    # Ada left (Zoom gives her leave time), Bob is back from his room, the guests went.
    clock.advance(timedelta(seconds=30))
    fake_zoom.set_live_participants(
        MEETING_ID, [live_row("ada", t, left=clock.now()), live_row("bob", t)]
    )
    assert worker.run_due() == 1
    with db.read() as unit:
        present = people_store.present_user_ids(unit, session_id=session_id)
        assert people_store.rooms_now(unit, session_id=session_id) == {}
    assert present == bob
    with db.transaction() as unit:
        repo.end_session(unit, session_id=session_id, ended_by="U0FACIL", now=clock.now())
    clock.advance(timedelta(seconds=30))
    calls = len(fake_zoom.calls)
    assert worker.run_due() == 1
    assert len(fake_zoom.calls) == calls  # the session ended: no more polling
    assert task(db, "zoom.metrics").done_at is not None


def test_a_plan_below_business_stops_polling_and_tells_the_facilitators_once(
    sqlite_database: Database,
    clock: FixedClock,
    worker: ZoomWorker,
    fake_zoom: FakeZoom,
    settings: Settings,
) -> None:
    fake_zoom.plan = "pro"
    session_id = start_session(sqlite_database, clock)
    with sqlite_database.transaction() as unit:
        queue_metrics(unit, session_id, clock.now())
        queue_metrics(unit, session_id, clock.now())  # queued twice: one task
    worker.run_due()
    clock.advance(timedelta(minutes=5))
    assert worker.run_due() == 0
    assert task(sqlite_database, "zoom.metrics").failed == REFUSED
    with sqlite_database.read() as unit:
        kinds = [row.kind for row in unit.exec(select(OutboxRow)).all()]
        session = repo.get_session(unit, session_id=session_id)
    assert kinds == [PRESENCE_UNAVAILABLE]
    assert session is not None
    counts = ZoomPresence(sqlite_database, clock, settings).counts(session)
    assert counts is not None
    assert counts.metrics_refused
    assert counts.source is None
