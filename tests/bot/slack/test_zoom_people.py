"""The outbox kinds of Zoom presence against the fake Slack over HTTP: a Slack person's email
from users.info (kept, and matched to Zoom), and the facilitators' one notice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import FixedClock
from bot.config import isolated_settings
from bot.slack.kinds import Progress
from bot.slack.zoom_people import SlackZoomPeople, profile_email
from bot.standin import FakeSlack
from bot.zoom.presence import ZoomPresence
from bot.zoom.presence_effects import PRESENCE_UNAVAILABLE, SLACK_EMAILS
from storage import repository as repo
from storage.db import Database
from storage.models import SessionFacilitator
from storage.outbox import Pending
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom import presence as presence_store
from storage.zoom.presence import Sighting
from tests.harness.slack_limits import RATE_LIMITS

NOW = datetime(2031, 11, 21, 18, 30, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(rate_limits=RATE_LIMITS) as fake:
        yield fake


@pytest.fixture
def people(slack: FakeSlack, sqlite_database: Database, clock: FixedClock) -> SlackZoomPeople:
    client = WebClient(token="xoxb-test", base_url=slack.api_url)
    return SlackZoomPeople(client, ZoomPresence(sqlite_database, clock, isolated_settings()))


def session_with_zoom(db: Database) -> int:
    with db.transaction() as unit:
        session = repo.create_session(
            unit,
            channel_id="C1",
            title="Durham <branch>",
            area=None,
            group_type=None,
            zoom_meeting_id="81234567890",
            started_by="U0FACIL",
            now=NOW,
        )
        assert session.id is not None
        meeting_store.bind_meeting(unit, session_id=session.id, meeting_id="81234567890")
        return session.id


def row(kind: str, **args: Any) -> Pending:
    return Pending(
        id=1,
        key=f"{kind}:1",
        kind=kind,
        target="t",
        priority=3,
        args=args,
        response_url=None,
        created_at=NOW,
        due_at=NOW,
        expires_at=None,
        attempts=0,
        progress={},
    )


def test_the_email_slack_gives_is_kept_and_matches_the_zoom_person(
    slack: FakeSlack, people: SlackZoomPeople, sqlite_database: Database
) -> None:
    session_id = session_with_zoom(sqlite_database)
    slack.add_user("U0ADA", "ada", email="Ada@Example.org")
    with sqlite_database.transaction() as unit:
        repo.lock_participant(unit, session_id=session_id, user_id="U0ADA", now=NOW)
        presence_store.apply_sighting(
            unit,
            session_id=session_id,
            sighting=Sighting(identity="uuid-ada", email="ada@example.org", joined_at=NOW),
            source="webhook",
            now=NOW,
        )
    lookup = row(SLACK_EMAILS, session_id=session_id, user_id="U0ADA")
    assert people.look_up_email(lookup, Progress(sqlite_database, lookup)) is True
    [call] = slack.calls_to("users.info")
    assert call.args["user"] == "U0ADA"
    with sqlite_database.read() as unit:
        assert people_store.slack_email(unit, user_id="U0ADA") == "ada@example.org"
        assert people_store.present_user_ids(unit, session_id=session_id) == {"U0ADA"}
    # Known now: a second look-up (another session's) asks Slack nothing.
    assert people.look_up_email(lookup, Progress(sqlite_database, lookup)) is False
    assert len(slack.calls_to("users.info")) == 1


def test_a_refused_look_up_is_remembered_as_no_email(
    slack: FakeSlack, people: SlackZoomPeople, sqlite_database: Database
) -> None:
    session_id = session_with_zoom(sqlite_database)
    lookup = row(SLACK_EMAILS, session_id=session_id, user_id="U0GONE")
    error = SlackApiError("user_not_found", {"ok": False, "error": "user_not_found"})
    people.no_email(lookup, error)
    assert not people.presence.email_wanted("U0GONE")
    with sqlite_database.read() as unit:
        assert people_store.slack_email(unit, user_id="U0GONE") is None


def test_profiles_without_an_email_give_none() -> None:
    assert profile_email({"profile": {"email": "a@b.org"}}) == "a@b.org"
    assert profile_email({"profile": {"real_name": "Bot"}}) is None
    assert profile_email({"profile": {"email": " "}}) is None
    assert profile_email(None) is None


def test_the_facilitators_are_told_once_each_by_direct_message(
    slack: FakeSlack, people: SlackZoomPeople, sqlite_database: Database
) -> None:
    session_id = session_with_zoom(sqlite_database)
    with sqlite_database.transaction() as unit:
        unit.add(SessionFacilitator(session_id=session_id, user_id="U0COFAC"))
    notice = row(PRESENCE_UNAVAILABLE, session_id=session_id)
    assert people.tell_no_presence(notice, Progress(sqlite_database, notice)) is True
    sent = slack.calls_to("chat.postMessage")
    assert [call.args["channel"] for call in sent] == ["U0FACIL", "U0COFAC"]
    text = sent[0].args["text"]
    assert "Durham &lt;branch&gt;" in text
    assert "Zoom Business" in text
    # A retry after a crash between the two messages: only the one not told yet hears it.
    retried = replace(notice, progress={"told U0FACIL": True})
    assert people.tell_no_presence(retried, Progress(sqlite_database, retried)) is True
    assert [call.args["channel"] for call in slack.calls_to("chat.postMessage")][2:] == ["U0COFAC"]
