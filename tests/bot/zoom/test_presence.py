"""Zoom presence from webhooks, in process: events applied by their own times, once each, only
for meetings a running session uses; the meeting's start and end; Slack check-ins matched."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import FixedClock
from bot.config import Settings, isolated_settings
from bot.standin.zoom.webhooks import participant, signed_headers, webhook_body
from bot.views.zoom import presence_status_lines
from bot.zoom.presence import REGISTRANTS_TASK, ZoomPresence
from bot.zoom.presence_effects import SLACK_EMAILS
from bot.zoom.sightings import (
    JOINED,
    JOINED_ROOM,
    LEFT,
    LEFT_ROOM,
    MEETING_ENDED,
    MEETING_STARTED,
)
from bot.zoom.webhook import ZoomWebhook
from storage import repository as repo
from storage.db import Database
from storage.outbox import OutboxRow
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom.meetings import ZoomTask
from storage.zoom.people import ZoomEventSeen, ZoomPerson

SECRET = "webhook-secret"
MEETING_ID = "81234567890"
UUID = "instance-1=="
MEETING = {"id": MEETING_ID, "uuid": UUID, "topic": "Durham", "type": 2}


class Zoom:
    """Sends signed events to the presence handlers, as Zoom's webhook would."""

    def __init__(self, db: Database, clock: FixedClock, settings: Settings) -> None:
        self.clock = clock
        self.db = db
        self.presence = ZoomPresence(db, clock, settings)
        self.webhook = ZoomWebhook(SECRET, clock)
        self.presence.register(self.webhook)

    def send(
        self, event: str, obj: Mapping[str, Any], *, event_ts: datetime | None = None
    ) -> tuple[int, dict[str, Any]]:
        stamp = event_ts or self.clock.now()
        body = webhook_body(event, obj, event_ts_ms=int(stamp.timestamp() * 1000))
        headers = signed_headers(SECRET, body, timestamp=int(self.clock.now().timestamp()))
        return self.webhook.handle(body, headers)

    def person(
        self, event: str, who: str, at: datetime, room: str | None = None, **more: Any
    ) -> int:
        """A participant event for `who` at `at` (event_ts a moment after)."""
        time_field = "join_time" if event in (JOINED, JOINED_ROOM) else "leave_time"
        who_fields = {time_field: at, "leave_reason": more.pop("leave_reason", None)}
        email = more.pop("email", "")
        obj: dict[str, Any] = {
            **MEETING,
            "participant": participant(f"uuid-{who}", who.title(), email, **who_fields),
        }
        if room is not None:
            obj["breakout_room_uuid"] = room
        obj.update(more)
        status, _ = self.send(event, obj, event_ts=at + timedelta(seconds=1))
        return status

    def present(self, session_id: int) -> set[str]:
        with self.db.read() as db:
            return people_store.present_user_ids(db, session_id=session_id)

    def rooms(self, session_id: int) -> dict[str, set[str]]:
        with self.db.read() as db:
            return people_store.rooms_now(db, session_id=session_id)


def start_session(
    db: Database, clock: FixedClock, *, channel: str = "C1", meeting: str | None = MEETING_ID
) -> int:
    with db.transaction() as unit:
        session = repo.create_session(
            unit,
            channel_id=channel,
            title="Durham",
            area=None,
            group_type=None,
            zoom_meeting_id=meeting,
            started_by="U0FACIL",
            now=clock.now(),
        )
        assert session.id is not None
        if meeting:
            meeting_store.bind_meeting(unit, session_id=session.id, meeting_id=meeting)
        return session.id


def check_in(db: Database, clock: FixedClock, session_id: int, user_id: str) -> None:
    with db.transaction() as unit:
        repo.check_in(
            unit,
            session_id=session_id,
            user_id=user_id,
            role="Member",
            place=None,
            group_name=None,
            consent_to_quote=False,
            now=clock.now(),
        )


@pytest.fixture
def settings() -> Settings:
    return isolated_settings(
        ZOOM_ACCOUNT_ID="acct", ZOOM_CLIENT_ID="id", ZOOM_CLIENT_SECRET="secret"
    )


@pytest.fixture
def zoom(sqlite_database: Database, clock: FixedClock, settings: Settings) -> Zoom:
    return Zoom(sqlite_database, clock, settings)


def test_joins_leaves_and_breakout_moves_give_who_is_where(zoom: Zoom, clock: FixedClock) -> None:
    session_id = start_session(zoom.db, clock)
    t = clock.now()
    assert zoom.person(JOINED, "ada", t) == 200
    [ada] = zoom.present(session_id)  # a Zoom-only participant: "zoom:…"
    assert zoom.person(JOINED, "bob", t) == 200
    moved = t + timedelta(minutes=5)
    reason = "left the meeting to join breakout room"
    assert zoom.person(LEFT, "ada", moved, leave_reason=reason) == 200
    assert zoom.person(JOINED_ROOM, "ada", moved, room="room-1==") == 200
    assert len(zoom.present(session_id)) == 2
    assert zoom.rooms(session_id) == {"room-1==": {ada}}
    zoom.person(LEFT_ROOM, "ada", t + timedelta(minutes=20), room="room-1==")
    zoom.person(LEFT, "bob", t + timedelta(minutes=20))
    assert zoom.present(session_id) == set()


def test_a_retry_85_minutes_late_and_events_out_of_order_change_nothing(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    t = clock.now()
    # The leave arrives first; the join it follows comes later (out of order).
    zoom.person(LEFT, "ada", t + timedelta(minutes=10))
    zoom.person(JOINED, "ada", t)
    assert zoom.present(session_id) == set()
    zoom.person(JOINED, "ada", t + timedelta(minutes=12))  # a rejoin
    [ada] = zoom.present(session_id)
    clock.advance(timedelta(minutes=85))
    # Zoom's third retry of the first join (same body, same event_ts), then of the leave.
    assert zoom.person(JOINED, "ada", t) == 200
    assert zoom.person(LEFT, "ada", t + timedelta(minutes=10)) == 200
    assert zoom.present(session_id) == {ada}
    # Even once their digests are forgotten, the events' own times keep the rejoin.
    clock.advance(timedelta(hours=4))
    assert zoom.presence.prune_seen() == 3
    zoom.person(JOINED, "ada", t)
    zoom.person(LEFT, "ada", t + timedelta(minutes=10))
    assert zoom.present(session_id) == {ada}


def test_a_replayed_event_is_applied_once(zoom: Zoom, clock: FixedClock) -> None:
    session_id = start_session(zoom.db, clock)
    t = clock.now()
    zoom.person(JOINED, "ada", t)
    with zoom.db.read() as db:
        [before] = db.exec(select(ZoomPerson)).all()
    clock.advance(timedelta(seconds=30))
    zoom.person(JOINED, "ada", t)
    with zoom.db.read() as db:
        [after] = db.exec(select(ZoomPerson)).all()
        seen = db.exec(select(ZoomEventSeen)).all()
    assert after.updated_at == before.updated_at  # not applied again
    assert len(seen) == 1
    assert len(zoom.present(session_id)) == 1


def test_events_for_a_meeting_no_session_uses_are_ignored(zoom: Zoom, clock: FixedClock) -> None:
    start_session(zoom.db, clock, meeting="99999999999")
    ended = start_session(zoom.db, clock, channel="C2")
    with zoom.db.transaction() as db:
        repo.end_session(db, session_id=ended, ended_by="U0FACIL", now=clock.now())
    assert zoom.person(JOINED, "ada", clock.now()) == 200
    assert zoom.send(MEETING_STARTED, MEETING)[0] == 200
    with zoom.db.read() as db:
        assert db.exec(select(ZoomPerson)).all() == []
        assert db.exec(select(ZoomEventSeen)).all() == []
        assert db.exec(select(ZoomTask)).all() == []


def test_the_start_binds_the_instance_and_fetches_the_registrants(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    check_in(zoom.db, clock, session_id, "U0ADA")
    started = clock.now() - timedelta(minutes=2)
    obj = {**MEETING, "start_time": started.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert zoom.send(MEETING_STARTED, obj)[0] == 200
    assert zoom.send(MEETING_STARTED, obj)[0] == 200  # a retry
    with zoom.db.read() as db:
        meeting = meeting_store.meeting_of(db, session_id=session_id)
        tasks = db.exec(select(ZoomTask)).all()
        effects = db.exec(select(OutboxRow)).all()
    assert meeting is not None
    assert (meeting.uuid, meeting.started_at) == (UUID, started)
    assert [(t.kind, t.key) for t in tasks] == [
        (REGISTRANTS_TASK, f"zoom:{session_id}:registrants:{UUID}:started")
    ]
    assert [(e.kind, e.args) for e in effects] == [
        (SLACK_EMAILS, f'{{"session_id":{session_id},"user_id":"U0ADA"}}')
    ]


def test_without_zoom_credentials_the_start_queues_no_zoom_call(
    sqlite_database: Database, clock: FixedClock
) -> None:
    zoom = Zoom(sqlite_database, clock, isolated_settings())
    start_session(zoom.db, clock)
    assert zoom.send(MEETING_STARTED, MEETING)[0] == 200
    with zoom.db.read() as db:
        assert db.exec(select(ZoomTask)).all() == []


def test_another_instance_of_the_meeting_is_not_this_sessions(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    zoom.send(MEETING_STARTED, MEETING)
    zoom.person(JOINED, "ada", clock.now() - timedelta(days=7), uuid="last-weeks-instance==")
    assert zoom.present(session_id) == set()
    zoom.person(JOINED, "ada", clock.now())
    assert len(zoom.present(session_id)) == 1


def test_the_end_closes_presence_and_runs_the_hooks_once(zoom: Zoom, clock: FixedClock) -> None:
    session_id = start_session(zoom.db, clock)
    zoom.send(MEETING_STARTED, MEETING)
    zoom.person(JOINED, "ada", clock.now())
    zoom.person(JOINED_ROOM, "bob", clock.now(), room="room==")
    ran: list[int] = []

    def hook(db: Session, session_id: int) -> None:
        # In the event's transaction: it sees the end, not yet committed.
        meeting = meeting_store.meeting_of(db, session_id=session_id)
        assert meeting is not None
        assert meeting.ended_at is not None
        ran.append(session_id)

    def failing(db: Session, session_id: int) -> None:
        raise RuntimeError("the database went away")

    zoom.presence.on_meeting_ended[:] = [hook, failing]
    end = clock.now() + timedelta(minutes=50)
    obj = {**MEETING, "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ")}
    # A failing hook rolls the end back and Zoom is answered 500: it delivers the end again.
    assert zoom.send(MEETING_ENDED, obj)[0] == 500
    assert len(zoom.present(session_id)) == 2
    with zoom.db.read() as db:
        meeting = meeting_store.meeting_of(db, session_id=session_id)
        assert meeting is not None
        assert meeting.ended_at is None
    ran.clear()
    zoom.presence.on_meeting_ended.remove(failing)
    assert zoom.send(MEETING_ENDED, obj)[0] == 200  # Zoom's retry
    assert zoom.send(MEETING_ENDED, obj)[0] == 200  # a retry
    assert zoom.send(MEETING_ENDED, obj, event_ts=end + timedelta(seconds=9))[0] == 200
    assert ran == [session_id]
    assert zoom.present(session_id) == set()
    assert zoom.rooms(session_id) == {}
    with zoom.db.read() as db:
        meeting = meeting_store.meeting_of(db, session_id=session_id)
    assert meeting is not None
    assert meeting.ended_at == end
    # A join Zoom delivers late, timed before the end, does not bring anyone back.
    zoom.person(JOINED, "cat", clock.now() + timedelta(minutes=10))
    assert zoom.present(session_id) == set()


def test_a_slack_check_in_is_matched_now_or_its_email_looked_up(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    zoom.person(JOINED, "ada", clock.now(), email="Ada@example.org")
    [zoom_only] = zoom.present(session_id)
    with zoom.db.transaction() as db:
        people_store.record_slack_email(
            db, user_id="U0ADA", email="ada@EXAMPLE.org", now=clock.now()
        )
    check_in(zoom.db, clock, session_id, "U0ADA")
    zoom.presence.checked_in(session_id, "U0ADA")
    assert zoom.present(session_id) == {"U0ADA"}
    check_in(zoom.db, clock, session_id, "U0BOB")
    zoom.presence.checked_in(session_id, "U0BOB")
    zoom.presence.checked_in(session_id, zoom_only)  # nobody to look up in Slack
    with zoom.db.read() as db:
        keys = [row.key for row in db.exec(select(OutboxRow)).all()]
    assert keys == [f"session:{session_id}:zoom:email:U0BOB"]
    # Slack's answer comes: Bob has no Zoom self yet, and his email is kept for when he joins.
    zoom.presence.slack_email_found(session_id=session_id, user_id="U0BOB", email="Bob@example.org")
    assert not zoom.presence.email_wanted("U0BOB")
    zoom.person(JOINED, "bob", clock.now(), email="bob@example.org")
    assert zoom.present(session_id) == {"U0ADA", "U0BOB"}


def test_a_session_without_zoom_looks_nothing_up(zoom: Zoom, clock: FixedClock) -> None:
    session_id = start_session(zoom.db, clock, meeting=None)
    check_in(zoom.db, clock, session_id, "U0ADA")
    zoom.presence.checked_in(session_id, "U0ADA")
    with zoom.db.read() as db:
        assert db.exec(select(OutboxRow)).all() == []
        session = repo.get_session(db, session_id=session_id)
    assert session is not None
    assert presence_status_lines(zoom.presence.counts(session)) == []


def test_status_lines_count_zoom_slack_both_and_zoom_only(zoom: Zoom, clock: FixedClock) -> None:
    session_id = start_session(zoom.db, clock)
    with zoom.db.read() as db:
        session = repo.get_session(db, session_id=session_id)
    assert session is not None
    assert presence_status_lines(zoom.presence.counts(session)) == [
        "*Zoom presence:* none yet — nobody seen in the meeting so far.",
        "*People:* 0 checked in on Slack, 0 of them also in Zoom (matched by email); 0 Zoom-only.",
    ]
    for user_id in ("U0ADA", "U0BOB"):
        check_in(zoom.db, clock, session_id, user_id)
    zoom.presence.slack_email_found(session_id=session_id, user_id="U0ADA", email="ada@example.org")
    zoom.person(JOINED, "ada", clock.now(), email="ada@example.org")
    zoom.person(JOINED, "guest", clock.now())
    zoom.person(JOINED_ROOM, "guest", clock.now(), room="room==")
    assert presence_status_lines(zoom.presence.counts(session)) == [
        "*Zoom presence:* 2 in the meeting now (1 in breakout rooms) — from Zoom's webhooks.",
        "*People:* 2 checked in on Slack, 1 of them also in Zoom (matched by email); 1 Zoom-only.",
    ]


def test_a_new_instance_starts_with_nobody_from_the_last_one(zoom: Zoom, clock: FixedClock) -> None:
    session_id = start_session(zoom.db, clock)
    zoom.send(MEETING_STARTED, MEETING)
    zoom.person(JOINED, "ada", clock.now())
    # The host ends the meeting (and Zoom's meeting.ended never comes), then starts it again.
    clock.advance(timedelta(minutes=10))
    again = {**MEETING, "uuid": "instance-2==", "start_time": "2031-11-21T18:40:00Z"}
    assert zoom.send(MEETING_STARTED, again)[0] == 200
    assert zoom.present(session_id) == set()
    zoom.person(JOINED, "bob", clock.now(), uuid="instance-2==")
    assert len(zoom.present(session_id)) == 1


def _registrant_keys(zoom: Zoom) -> list[str]:
    with zoom.db.read() as db:
        tasks = db.exec(select(ZoomTask).where(ZoomTask.kind == REGISTRANTS_TASK)).all()
    return sorted(task.key for task in tasks)


def test_the_start_fetches_the_registrants_again_after_the_lookup(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    with zoom.db.transaction() as db:
        # The lookup found the meeting (and its uuid) a day before it starts.
        meeting_store.save_meeting(db, session_id=session_id, uuid=UUID)
        meeting = meeting_store.meeting_of(db, session_id=session_id)
        assert meeting is not None
        zoom.presence.meeting_bound(db, meeting)
    assert _registrant_keys(zoom) == [f"zoom:{session_id}:registrants:{UUID}"]
    zoom.send(MEETING_STARTED, MEETING)
    # People who registered since the lookup are fetched at the start.
    assert _registrant_keys(zoom) == [
        f"zoom:{session_id}:registrants:{UUID}",
        f"zoom:{session_id}:registrants:{UUID}:started",
    ]


def test_a_join_before_its_meeting_started_binds_the_new_instance(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    zoom.send(MEETING_STARTED, MEETING)
    zoom.person(JOINED, "ada", clock.now())
    # Next week's instance: Bob's join reaches the bot before its meeting.started.
    clock.advance(timedelta(days=7))
    start = clock.now()
    zoom.person(JOINED, "bob", start + timedelta(seconds=5), uuid="instance-2==")
    [bob] = zoom.present(session_id)  # Ada was last week's
    with zoom.db.read() as db:
        meeting = meeting_store.meeting_of(db, session_id=session_id)
    assert meeting is not None
    assert (meeting.uuid, meeting.started_at) == ("instance-2==", start + timedelta(seconds=5))
    again = {**MEETING, "uuid": "instance-2==", "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert zoom.send(MEETING_STARTED, again)[0] == 200
    assert zoom.present(session_id) == {bob}  # the start takes nobody out
    with zoom.db.read() as db:
        meeting = meeting_store.meeting_of(db, session_id=session_id)
    assert meeting is not None
    assert (meeting.uuid, meeting.started_at) == ("instance-2==", start)
    # A late retry of last week's leave changes nothing now.
    zoom.person(LEFT, "ada", start - timedelta(days=7) + timedelta(hours=1))
    assert zoom.present(session_id) == {bob}
    assert _registrant_keys(zoom) == [
        f"zoom:{session_id}:registrants:{UUID}:started",
        f"zoom:{session_id}:registrants:instance-2==:started",
    ]


def test_a_bot_started_mid_meeting_binds_the_running_instance_from_its_events(
    zoom: Zoom, clock: FixedClock
) -> None:
    session_id = start_session(zoom.db, clock)
    with zoom.db.transaction() as db:
        # The lookup's uuid is an earlier instance's; the running one's start was missed.
        meeting_store.save_meeting(db, session_id=session_id, uuid="earlier-instance==")
    joined = clock.now() - timedelta(minutes=30)
    zoom.person(JOINED, "ada", joined)
    with zoom.db.read() as db:
        meeting = meeting_store.meeting_of(db, session_id=session_id)
    assert meeting is not None
    assert (meeting.uuid, meeting.started_at, meeting.ended_at) == (UUID, joined, None)
    assert len(zoom.present(session_id)) == 1
    # The end of the running instance is this session's (its polls' results are fetched).
    ran: list[int] = []
    zoom.presence.on_meeting_ended.append(lambda _db, session: ran.append(session))
    end = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert zoom.send(MEETING_ENDED, {**MEETING, "end_time": end})[0] == 200
    assert ran == [session_id]
    assert zoom.present(session_id) == set()
