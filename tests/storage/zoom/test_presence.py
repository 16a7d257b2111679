"""Zoom presence storage: the latest-join/latest-leave rules, breakout rooms, matching Zoom
people to Slack people by email, registrants, dedupe, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage import repository as repo
from storage.db import Database
from storage.models import Participant
from storage.polls.lifecycle import PollVoter, create_poll
from storage.zoom import people as people_store
from storage.zoom import presence as store
from storage.zoom.meetings import bind_meeting
from storage.zoom.people import FROM_METRICS, FROM_WEBHOOKS, is_zoom_only
from storage.zoom.presence import Answers, Sighting
from tests.storage.sessions import T0, start_session

ADA = "participant-uuid-ada"
BOB = "participant-uuid-bob"
ROOM_A = "room-a=="
ROOM_B = "room-b=="


def _at(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def _session(db: Database) -> int:
    session_id = start_session(db)
    with db.transaction() as s:
        bind_meeting(s, session_id=session_id, meeting_id="81234567890")
    return session_id


def _apply(db: Database, session_id: int, *sightings: Sighting, source: str = FROM_WEBHOOKS) -> str:
    user_id = ""
    for sighting in sightings:
        with db.transaction() as s:
            user_id = store.apply_sighting(
                s, session_id=session_id, sighting=sighting, source=source, now=T0
            )
    return user_id


def _join(
    identity: str,
    minutes: float,
    room: str | None = None,
    *,
    name: str | None = None,
    email: str | None = None,
    registrant_id: str | None = None,
) -> Sighting:
    return Sighting(
        identity=identity,
        name=name,
        email=email,
        registrant_id=registrant_id,
        room_uuid=room,
        joined_at=T0 + _at(minutes),
    )


def _leave(identity: str, minutes: float, room: str | None = None) -> Sighting:
    return Sighting(identity=identity, room_uuid=room, left_at=T0 + _at(minutes))


def _present(db: Database, session_id: int) -> set[str]:
    with db.read() as s:
        return people_store.present_user_ids(s, session_id=session_id)


def _rooms(db: Database, session_id: int) -> dict[str, set[str]]:
    with db.read() as s:
        return people_store.rooms_now(s, session_id=session_id)


def _participant(db: Database, session_id: int, user_id: str) -> Participant | None:
    with db.read() as s:
        return repo.get_participant(s, session_id=session_id, user_id=user_id)


def _slack_person(db: Database, session_id: int, user_id: str, email: str | None) -> None:
    """A Slack participant who checked in, with the email Slack gave for them."""
    with db.transaction() as s:
        repo.check_in(
            s,
            session_id=session_id,
            user_id=user_id,
            role="Member",
            place="Durham",
            group_name=None,
            consent_to_quote=False,
            now=T0,
        )
        people_store.record_slack_email(s, user_id=user_id, email=email, now=T0)


def test_a_late_retry_of_a_join_changes_nothing(database: Database) -> None:
    session_id = _session(database)
    ada = _apply(database, session_id, _join(ADA, 0), _leave(ADA, 10))
    assert _present(database, session_id) == set()
    # Zoom redelivers the join 85 minutes later: its own time is before the leave.
    _apply(database, session_id, _join(ADA, 0))
    assert _present(database, session_id) == set()
    assert is_zoom_only(ada)


def test_events_out_of_order_give_the_same_presence(database: Database) -> None:
    first, second = _session(database), _session_in_other_channel(database)
    events = [_join(ADA, 0), _leave(ADA, 10), _join(ADA, 12), _join(BOB, 1), _leave(BOB, 5)]
    _apply(database, first, *events)
    _apply(database, second, *reversed(events))
    assert len(_present(database, first)) == len(_present(database, second)) == 1


def _session_in_other_channel(db: Database) -> int:
    session_id = start_session(db, channel="C2")
    with db.transaction() as s:
        bind_meeting(s, session_id=session_id, meeting_id="81234567890")
    return session_id


def test_a_rejoin_counts_and_an_old_leave_arriving_after_it_does_not(database: Database) -> None:
    session_id = _session(database)
    ada = _apply(database, session_id, _join(ADA, 0), _leave(ADA, 10), _join(ADA, 11))
    assert _present(database, session_id) == {ada}
    _apply(database, session_id, _leave(ADA, 10))  # the retry of the first leave
    assert _present(database, session_id) == {ada}
    # A leave and a rejoin within the same second: in.
    _apply(database, session_id, _leave(ADA, 20), _join(ADA, 20))
    assert _present(database, session_id) == {ada}


def test_breakout_moves_follow_the_latest_room_join(database: Database) -> None:
    session_id = _session(database)
    ada = _apply(
        database,
        session_id,
        _join(ADA, 0),
        _leave(ADA, 5),  # "left the meeting to join breakout room"
        _join(ADA, 5, ROOM_A),
    )
    assert _present(database, session_id) == {ada}
    assert _rooms(database, session_id) == {ROOM_A: {ada}}
    # A move whose join Zoom timed just before the leave of the room before, and delivered first.
    _apply(database, session_id, _join(ADA, 9.9, ROOM_B), _leave(ADA, 10, ROOM_A))
    assert _rooms(database, session_id) == {ROOM_B: {ada}}
    with database.read() as s:
        (person,) = people_store.people_in_session(s, session_id=session_id)
    assert person.room_uuid == ROOM_B
    # Back to the main room, then out of the meeting.
    _apply(database, session_id, _leave(ADA, 15, ROOM_B), _join(ADA, 15))
    assert _rooms(database, session_id) == {}
    assert _present(database, session_id) == {ada}
    _apply(database, session_id, _leave(ADA, 20))
    assert _present(database, session_id) == set()


def test_leaving_the_meeting_from_a_room_leaves_it(database: Database) -> None:
    session_id = _session(database)
    _apply(database, session_id, _join(ADA, 0), _leave(ADA, 5), _join(ADA, 5, ROOM_A))
    _apply(database, session_id, _leave(ADA, 30, ROOM_A))
    assert _present(database, session_id) == set()
    assert _rooms(database, session_id) == {}


def test_guests_without_ids_or_emails_are_separate_zoom_only_participants(
    database: Database,
) -> None:
    session_id = _session(database)
    one = _apply(database, session_id, _join("guest-uuid-1", 0, name="iPhone"))
    two = _apply(database, session_id, _join("guest-uuid-2", 0, name="iPhone"))
    assert one != two
    assert is_zoom_only(one)
    assert is_zoom_only(two)
    assert _present(database, session_id) == {one, two}
    participant = _participant(database, session_id, one)
    assert participant is not None
    assert participant.checked_in_at == T0
    assert participant.role is None


def test_a_zoom_email_matches_a_slack_participant_case_blind(database: Database) -> None:
    session_id = _session(database)
    _slack_person(database, session_id, "U0ADA", "Ada@Example.org")
    ada = _apply(database, session_id, _join(ADA, 0, email=" ADA@example.ORG "))
    assert ada == "U0ADA"
    with database.read() as s:
        assert people_store.user_for_email(s, session_id=session_id, email="ada@EXAMPLE.org") == (
            "U0ADA"
        )
        assert people_store.email_of(s, session_id=session_id, user_id="U0ADA") == (
            "ada@example.org"
        )
        counts = people_store.presence_counts(s, session_id=session_id)
    assert (counts.in_zoom, counts.slack_checked_in, counts.matched, counts.zoom_only) == (
        1,
        1,
        1,
        0,
    )
    assert counts.source == FROM_WEBHOOKS


def test_an_email_learnt_later_links_the_zoom_only_person(database: Database) -> None:
    session_id = _session(database)
    zoom_id = _apply(database, session_id, _join(ADA, 0, email="ada@example.org"))
    assert is_zoom_only(zoom_id)
    with database.transaction() as s:
        store.apply_registrant(
            s,
            session_id=session_id,
            sighting=Sighting(
                identity="registrant:r1", email="ada@example.org", registrant_id="r1"
            ),
            answers=Answers(role="Councillor", place="Stoke"),
            now=T0,
        )
    # Ada is on Slack too, but has not checked in there: her registration answers come along.
    with database.transaction() as s:
        repo.lock_participant(s, session_id=session_id, user_id="U0ADA", now=T0)
        people_store.record_slack_email(s, user_id="U0ADA", email="ADA@example.org", now=T0)
        assert (
            store.link_email(
                s, session_id=session_id, user_id="U0ADA", email="ada@example.org", now=T0
            )
            == 2
        )
    assert _present(database, session_id) == {"U0ADA"}
    assert _participant(database, session_id, zoom_id) is None
    ada = _participant(database, session_id, "U0ADA")
    assert ada is not None
    assert (ada.role, ada.place, ada.checked_in_at) == (
        "Councillor",
        "Stoke",
        T0,
    )
    with database.read() as s:
        assert people_store.user_for_email(s, session_id=session_id, email="ada@example.org") == (
            "U0ADA"
        )


def test_a_linked_zoom_only_row_that_voted_stays_but_no_longer_counts(database: Database) -> None:
    session_id = _session(database)
    zoom_id = _apply(database, session_id, _join(ADA, 0, email="ada@example.org"))
    with database.transaction() as s:
        poll = create_poll(
            s,
            session_id=session_id,
            channel_id="C1",
            key="p",
            question="Agree?",
            options=["Yes", "No"],
            multi=False,
            anonymous=False,
            hide_results=False,
            created_by="U1",
            now=T0,
            closes_at=T0 + _at(2),
        )
        s.add(PollVoter(poll_id=poll.id or 0, user_id=zoom_id))
    _slack_person(database, session_id, "U0ADA", "ada@example.org")
    with database.transaction() as s:
        store.link_email(s, session_id=session_id, user_id="U0ADA", email="ada@example.org", now=T0)
    kept = _participant(database, session_id, zoom_id)
    assert kept is not None
    assert kept.checked_in_at is None
    with database.read() as s:
        counts = people_store.presence_counts(s, session_id=session_id)
    assert (counts.matched, counts.zoom_only) == (1, 0)


def test_registrants_answers_become_their_check_in_unless_slack_has_one(
    database: Database,
) -> None:
    session_id = _session(database)
    _slack_person(database, session_id, "U0BOB", "bob@example.org")

    def register(registrant_id: str, email: str | None, answers: Answers) -> str:
        with database.transaction() as s:
            return store.apply_registrant(
                s,
                session_id=session_id,
                sighting=Sighting(
                    identity=f"registrant:{registrant_id}", email=email, registrant_id=registrant_id
                ),
                answers=answers,
                now=T0 + _at(1),
            )

    cat = register("r-cat", "cat@example.org", Answers(role="Member", group_name="CLP"))
    bob = register("r-bob", "BOB@example.org", Answers(role="Guest", place="Leeds"))
    quiet = register("r-quiet", "quiet@example.org", Answers())
    assert bob == "U0BOB"
    assert is_zoom_only(cat)
    assert is_zoom_only(quiet)
    cat_row = _participant(database, session_id, cat)
    assert cat_row is not None
    assert (cat_row.role, cat_row.group_name, cat_row.checked_in_at) == (
        "Member",
        "CLP",
        T0 + _at(1),
    )
    bob_row = _participant(database, session_id, "U0BOB")
    assert bob_row is not None
    assert (bob_row.role, bob_row.place) == ("Member", "Durham")
    # Registered with no answers and never seen: no check-in to count.
    assert _participant(database, session_id, quiet) is None
    # Cat joins with her registrant id but no email (Zoom leaves it out for outsiders).
    assert _apply(database, session_id, _join("cat-uuid", 3, registrant_id="r-cat")) == cat
    assert _present(database, session_id) == {cat}


def test_an_event_is_applied_once_and_old_digests_are_pruned(database: Database) -> None:
    with database.transaction() as s:
        assert store.record_event(s, digest="d1", now=T0)
        assert not store.record_event(s, digest="d1", now=T0 + _at(5))
        assert store.record_event(s, digest="d2", now=T0 + _at(200))
    with database.transaction() as s:
        assert store.prune_events(s, before=T0 + _at(100)) == 1
    with database.transaction() as s:
        assert store.record_event(s, digest="d1", now=T0 + _at(201))
        assert not store.record_event(s, digest="d2", now=T0 + _at(201))


def test_leave_all_closes_what_a_snapshot_no_longer_lists(database: Database) -> None:
    session_id = _session(database)
    ada = _apply(database, session_id, _join(ADA, 0), source=FROM_METRICS)
    bob = _apply(database, session_id, _join(BOB, 0), _join(BOB, 1, ROOM_A), source=FROM_METRICS)
    webhook = _apply(database, session_id, _join("cat-uuid", 0))
    with database.transaction() as s:
        closed = store.leave_all(
            s, session_id=session_id, at=T0 + _at(5), source=FROM_METRICS, still_in=[BOB]
        )
    assert closed == 2  # Ada, and Bob's room
    assert _present(database, session_id) == {bob, webhook}
    assert _rooms(database, session_id) == {}
    with database.transaction() as s:
        store.leave_all(s, session_id=session_id, at=T0 + _at(60))  # the meeting ended
    assert _present(database, session_id) == set()
    assert ada not in _present(database, session_id)


def test_slack_emails_are_kept_lower_case_and_remembered_when_missing(database: Database) -> None:
    with database.transaction() as s:
        people_store.record_slack_email(s, user_id="U1", email=" Ada@Example.org", now=T0)
        people_store.record_slack_email(s, user_id="U2", email=None, now=T0)
    with database.read() as s:
        assert people_store.slack_email(s, user_id="U1") == "ada@example.org"
        assert people_store.slack_email_known(s, user_id="U1", looked_up_after=T0 + _at(9))
        assert people_store.slack_email_known(s, user_id="U2", looked_up_after=T0)
        assert not people_store.slack_email_known(s, user_id="U2", looked_up_after=T0 + _at(1))
        assert not people_store.slack_email_known(s, user_id="U3", looked_up_after=T0)
    with database.transaction() as s:
        people_store.record_slack_email(s, user_id="U2", email="bob@example.org", now=T0)
    with database.read() as s:
        assert people_store.slack_email(s, user_id="U2") == "bob@example.org"
