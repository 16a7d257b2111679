"""Reading Zoom's webhook events, live metrics rows and registrants (shapes from
docs/zoom-api-notes.md §3 and §5, as the fake Zoom's webhook builders send them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.standin.zoom.webhooks import participant, webhook_body
from bot.zoom.sightings import (
    JOINED,
    JOINED_ROOM,
    LEFT,
    LEFT_ROOM,
    MEETING_STARTED,
    Questions,
    event_digest,
    meeting_ref,
    metrics_sighting,
    participant_sighting,
    registrant_sighting,
)
from storage.zoom.people import IDENTITY_MAX

T = datetime(2026, 12, 2, 18, 30, 5, tzinfo=UTC)
MEETING = {"id": "81234567890", "uuid": "4444AAAiAAAAAiAiAiiAii==", "topic": "Durham", "type": 2}


def envelope(event: str, obj: dict[str, Any], *, event_ts_ms: int = 1764700205000) -> Any:
    """An event exactly as Zoom's body decodes."""
    return json.loads(webhook_body(event, obj, event_ts_ms=event_ts_ms))


def test_a_join_is_read_from_its_own_time() -> None:
    who = participant("puuid-ada", "Ada", "Ada@Example.org", join_time=T, registrant_id="r1")
    sighting = participant_sighting(envelope(JOINED, {**MEETING, "participant": who}))
    assert sighting is not None
    assert sighting.identity == "puuid-ada"
    assert (sighting.name, sighting.email, sighting.registrant_id) == (
        "Ada",
        "ada@example.org",
        "r1",
    )
    assert (sighting.joined_at, sighting.left_at, sighting.room_uuid) == (T, None, None)


def test_a_leave_without_its_time_falls_back_on_event_ts() -> None:
    who = participant("puuid-ada", "Ada", "")
    sighting = participant_sighting(envelope(LEFT, {**MEETING, "participant": who}))
    assert sighting is not None
    assert sighting.left_at == datetime.fromtimestamp(1764700205, UTC)
    assert sighting.email is None  # a blank email is no email


def test_breakout_events_keep_the_participant_uuid_and_name_the_room() -> None:
    who = participant("puuid-ada", "Ada", "", user_id="16000002", join_time=T, parent_user_id="1")
    obj = {**MEETING, "breakout_room_uuid": "room==", "participant": who}
    joined = participant_sighting(envelope(JOINED_ROOM, obj))
    assert joined is not None
    assert (joined.identity, joined.room_uuid, joined.joined_at) == ("puuid-ada", "room==", T)
    # Without participant_uuid, the main meeting's user id (parent_user_id) names the person.
    del who["participant_uuid"]
    left = participant_sighting(
        envelope(LEFT_ROOM, {**obj, "participant": {**who, "leave_time": "2026-12-02T18:40:00Z"}})
    )
    assert left is not None
    assert left.identity == "user:1"
    # A room event without its room names nothing.
    assert participant_sighting(envelope(JOINED_ROOM, {**MEETING, "participant": who})) is None


def test_a_guest_without_ids_or_email_is_named_by_main_meeting_user_id() -> None:
    guest = {
        "user_id": "16778240",
        "user_name": "iPhone",
        "id": "",
        "email": "",
        "join_time": "2026-12-02T18:30:05Z",
    }
    sighting = participant_sighting(envelope(JOINED, {**MEETING, "participant": guest}))
    assert sighting is not None
    assert (sighting.identity, sighting.email, sighting.joined_at) == ("user:16778240", None, T)
    nobody = {"user_name": "?", "email": "", "join_time": "2026-12-02T18:30:05Z"}
    assert participant_sighting(envelope(JOINED, {**MEETING, "participant": nobody})) is None


def test_a_retry_has_the_same_digest_and_another_event_another() -> None:
    who = participant("puuid-ada", "Ada", "", join_time=T)
    first = envelope(JOINED, {**MEETING, "participant": who})
    assert event_digest(first) == event_digest(json.loads(json.dumps(first)))
    later_join = participant("puuid-ada", "Ada", "", join_time="2026-12-02T18:31:00Z")
    assert event_digest(first) != event_digest(
        envelope(JOINED, {**MEETING, "participant": later_join})
    )
    assert event_digest(first) != event_digest(envelope(LEFT, {**MEETING, "participant": who}))
    started = envelope(MEETING_STARTED, MEETING)
    assert event_digest(started) != event_digest(envelope(MEETING_STARTED, MEETING, event_ts_ms=1))


def test_meeting_ids_are_kept_as_digits() -> None:
    assert meeting_ref({"id": 81234567890, "uuid": " u== "}).meeting_id == "81234567890"
    assert meeting_ref({"id": "81234567890", "uuid": " u== "}).uuid == "u=="
    assert meeting_ref({}).meeting_id is None


def test_live_metrics_rows_give_room_and_both_times() -> None:
    row = {
        "id": "",
        "user_id": "16778240",
        "participant_uuid": "puuid-bob",
        "user_name": "Bob",
        "email": "",
        "join_time": "2026-12-02T18:30:05Z",
        "leave_time": "",
        "status": "in_meeting",
        "bo_mtg_id": "Dkgwu8nm/ExG1vM+GhLRhA==",
    }
    sighting = metrics_sighting(row)
    assert sighting is not None
    assert (sighting.identity, sighting.room_uuid, sighting.joined_at, sighting.left_at) == (
        "puuid-bob",
        "Dkgwu8nm/ExG1vM+GhLRhA==",
        T,
        None,
    )
    gone = metrics_sighting({**row, "bo_mtg_id": "", "leave_time": "2026-12-02T18:50:00Z"})
    assert gone is not None
    assert gone.room_uuid is None
    assert gone.left_at is not None
    assert metrics_sighting({**row, "status": "in_waiting_room"}) is None
    # A stay that ended within the second it began has ended.
    brief = metrics_sighting({**row, "leave_time": row["join_time"]})
    assert brief is not None
    assert brief.left_at is not None
    assert brief.joined_at is not None
    assert brief.left_at > brief.joined_at


def test_registrants_answers_are_read_by_question_name_case_blind() -> None:
    row = {
        "id": "reg-1",
        "email": "Cat@Example.org",
        "first_name": "Cat",
        "last_name": "Jones",
        "custom_questions": [
            {"title": "  your ROLE: ", "value": "  Branch   officer "},
            {"title": "Town", "value": "Stoke"},
            {"title": "Dietary needs", "value": "none"},
            {"title": "Group", "value": "x" * 200},
        ],
    }
    parsed = registrant_sighting(row, Questions(role="Your role", place="town"))
    assert parsed is not None
    sighting, answers = parsed
    assert (sighting.identity, sighting.email, sighting.name) == (
        "registrant:reg-1",
        "cat@example.org",
        "Cat Jones",
    )
    assert (answers.role, answers.place) == ("Branch officer", "Stoke")
    assert answers.group_name == "x" * 80
    assert registrant_sighting({"email": "a@b"}, Questions()) is None
    plain = registrant_sighting({"id": "reg-2", "email": "d@e"}, Questions())
    assert plain is not None
    assert not plain[1].any()


def test_a_person_known_only_by_email_gets_an_identity_that_fits_its_column() -> None:
    address = "a" * 64 + "@" + "long-subdomain." * 15 + "example.org"  # 256 characters
    row = {
        "participant_uuid": "",
        "user_id": "",
        "email": address.upper(),
        "join_time": "2026-12-02T18:30:05Z",
        "bo_mtg_id": "Dkgwu8nm/ExG1vM+GhLRhA==",
    }
    sighting = metrics_sighting(row)
    again = metrics_sighting({**row, "email": f"  {address} "})
    assert sighting is not None
    assert again is not None
    assert sighting.identity.startswith("email:")
    assert len(sighting.identity) <= IDENTITY_MAX
    assert sighting.identity == again.identity  # the same address, however Zoom cased it
    assert sighting.email == address  # the address itself is kept whole
