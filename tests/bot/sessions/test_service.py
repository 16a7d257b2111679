"""SessionService rules on a real SQLite file."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import FixedClock
from bot.config import load_settings
from bot.results import Duplicate, Refusal
from bot.sessions import CheckedIn, CheckInAnswers, SessionService, StartRequest
from storage import outbox
from storage import repository as repo
from storage.db import Database
from storage.models import ListeningSession

REQUEST = StartRequest(title="Durham", area="Durham", group_type="CLP", zoom_meeting_id=None)


def _service(db: Database, clock: FixedClock, **settings: str) -> SessionService:
    return SessionService(db, load_settings(env_file=None, **settings), clock)


def _start(service: SessionService, user: str = "U0FAC") -> ListeningSession:
    started = service.start(channel_id="C1", user_id=user, request=REQUEST, delivery_key=None)
    assert isinstance(started, ListeningSession)
    return started


def test_deliveries_older_than_an_hour_are_pruned(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    with sqlite_database.transaction() as s:
        repo.record_delivery(s, key="stale", now=clock.now() - timedelta(minutes=61))
        repo.record_delivery(s, key="fresh", now=clock.now() - timedelta(minutes=59))
    assert service.prune_deliveries() == 1
    assert not service.already_done("stale")
    assert service.already_done("fresh")


def test_facilitators_are_the_starter_then_the_global_list(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock, FACILITATORS="U0BOSS,U0FAC")
    session = _start(service, user="U0FAC")
    assert service.facilitators(session) == ["U0FAC", "U0BOSS"]
    assert service.is_facilitator("U0BOSS", session)
    assert not service.is_facilitator("U0ANY", session)
    assert not service.is_facilitator("U0ANY", None)  # with a list, only listed people start


def test_without_a_list_anyone_may_start(sqlite_database: Database, clock: FixedClock) -> None:
    service = _service(sqlite_database, clock)
    assert service.is_facilitator("U0ANY", None)
    session = _start(service, user="U0ANY")
    assert service.is_facilitator("U0ANY", session)
    assert not service.is_facilitator("U0OTHER", session)


def test_check_in_form_prefills_from_the_session_then_the_person(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    session = _start(service)
    assert session.id is not None
    form = service.check_in_form(session_id=session.id, user_id="U1")
    assert not isinstance(form, Refusal)
    assert (form.role, form.place, form.group_name, form.returning) == (
        None,
        "Durham",
        "CLP",
        False,
    )
    answers = CheckInAnswers(
        role="  Trade   union member ", place="Sunderland", group_name="", consent_to_quote=True
    )
    done = service.check_in(session_id=session.id, user_id="U1", answers=answers, delivery_key="k")
    assert isinstance(done, CheckedIn)
    assert done.participant.role == "Trade union member"  # spaces folded
    assert done.participant.group_name is None  # empty means not given
    again = service.check_in(session_id=session.id, user_id="U1", answers=answers, delivery_key="k")
    assert isinstance(again, Duplicate)
    form = service.check_in_form(session_id=session.id, user_id="U1")
    assert not isinstance(form, Refusal)
    assert (form.role, form.place, form.group_name, form.consent_to_quote, form.returning) == (
        "Trade union member",
        "Sunderland",
        "CLP",  # an answer left empty falls back to the session's group
        True,
        True,
    )


def test_role_suggestions_put_the_typed_text_first(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    assert service.role_suggestions("coun") == ["coun", "Councillor"]
    assert service.role_suggestions("councillor") == ["Councillor"]
    assert service.role_suggestions("")[:2] == ["Member", "Trade union member"]
    assert service.role_suggestions("x" * 500) == ["x" * 75]


def test_roles_typed_by_fewer_than_three_people_are_not_suggested(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    session = _start(service)
    assert session.id is not None
    for number, role in enumerate(["Shop steward"] * 3 + ["Mayor of Smalltown"]):
        service.check_in(
            session_id=session.id,
            user_id=f"U{number}",
            answers=CheckInAnswers(role=role, place=None, group_name=None, consent_to_quote=False),
            delivery_key=None,
        )
    suggestions = service.role_suggestions("")
    assert "Shop steward" in suggestions
    assert "Mayor of Smalltown" not in suggestions


def test_a_start_queues_its_message_with_the_response_url(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    started = service.start(
        channel_id="C1",
        user_id="U0FAC",
        request=REQUEST,
        delivery_key="command:T1",
        response_url="https://hooks.slack.test/commands/T1",
    )
    assert isinstance(started, ListeningSession)
    assert started.id is not None
    again = service.start(
        channel_id="C1", user_id="U0FAC", request=REQUEST, delivery_key="command:T1"
    )
    assert isinstance(again, Duplicate)
    with sqlite_database.read() as s:
        [row] = outbox.rows(s)
    assert (row.key, row.kind, row.target) == (
        f"session:{started.id}:post",
        "session.post",
        f"session:{started.id}",
    )
    assert json.loads(row.args) == {"session_id": started.id}
    assert row.response_url == "https://hooks.slack.test/commands/T1"
    assert row.expires_at is None  # a public post is never dropped


def test_a_refused_start_is_discarded_and_can_be_retried(
    sqlite_database: Database, clock: FixedClock
) -> None:
    service = _service(sqlite_database, clock)
    session = _start(service)
    assert session.id is not None
    discarded = service.discard(session.id)
    assert discarded is not None
    assert discarded.started_by == "U0FAC"
    assert service.get(session.id) is None
    assert service.discard(session.id) is None
    with sqlite_database.read() as s:
        [retired] = outbox.rows(s)  # never sent, and its key is free
    assert retired.key == f"session:{session.id}:post:retired:{retired.id}"
    assert (retired.sent_at, retired.failed) == (clock.now(), "session discarded")
    # SQLite gives the next session the same id: its message is queued all the same
    retried = _start(service)
    assert retried.id == session.id
    with sqlite_database.read() as s:
        rows = outbox.rows(s)
    assert [row.key for row in rows][1:] == [f"session:{retried.id}:post"]
    assert rows[1].id != retired.id
