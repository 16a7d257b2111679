"""Polls on Zoom end to end: the real app over HTTP against the fake Slack and the fake Zoom.

`/poll … --zoom` creates the poll in the meeting too (its thread says to launch it there); after
the session, Zoom's answers (published late) are merged: the closed poll and the summary are
edited in place, the thread says "Zoom answers added: n", and the tour report shows both
sources. A poll Zoom cannot carry is refused before anything is posted.
"""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.cli import main
from bot.report.export import session_document
from bot.report.model import TourReport
from bot.report.tour import write_report
from bot.standin.zoom import FakeZoom
from storage.models import Participant
from storage.report import SessionFilter
from storage.zoom.people import SlackEmail
from storage.zoom.polls import ZoomAnswer, ZoomPoll
from tests.e2e.conftest import CHANNEL, PARTICIPANT, RunningBot, ack_text, all_text
from tests.e2e.test_polls import _launch, _message, _poll, _vote
from tests.e2e.zoom_helpers import MEETING_ID, zoom_idle, zoom_overrides
from tests.harness.waiting import eventually


def whole(report: TourReport) -> TourReport:
    return report


QUESTION = "Should the party back the strike?"
POLL = f'"{QUESTION}" "Agree" "Disagree"'
VOTER_EMAIL = "part1@example.org"
OTHER_VOTER = "U0PART2"


ZOOM_TIMEOUT = 2.0  # seconds; loopback answers in milliseconds, a slowed one in more


@pytest.fixture
def settings_overrides(fake_zoom: FakeZoom) -> dict[str, Any]:
    # A handful of voters split by source, shown whole (hidden: the test with REPORT_MIN_GROUP 3).
    return zoom_overrides(fake_zoom, ZOOM_TIMEOUT_SECONDS=str(ZOOM_TIMEOUT), REPORT_MIN_GROUP="1")


def _start(bot: RunningBot, fake_zoom: FakeZoom, *, meeting_type: int = 2) -> None:
    """A session bound to a scheduled (or recurring) meeting, looked up."""
    fake_zoom.add_meeting(MEETING_ID, topic="Durham", type=meeting_type)
    response = bot.command("/session", f'start "Durham listening session" --zoom {MEETING_ID}')
    assert response.text == "", response.text
    bot.slack.wait_for("chat.postMessage")
    zoom_idle(bot)


def _thread(bot: RunningBot, ts: str) -> list[str]:
    """The texts of the replies in a message's thread."""
    return [
        str(m.get("text", ""))
        for m in bot.slack.messages(CHANNEL)
        if m.get("thread_ts") == ts and m["ts"] != ts
    ]


def _zoom_row(bot: RunningBot) -> ZoomPoll:
    with bot.services.db.read() as db:
        row = db.get(ZoomPoll, _poll(bot).id)
        assert row is not None
        return row


def _respondent(name: str, email: str, answer: str, polling_id: str) -> dict[str, Any]:
    return {
        "name": name,
        "email": email,
        "question_details": [
            {"question": QUESTION, "answer": answer, "polling_id": polling_id},
        ],
    }


def _launch_vote_and_end(bot: RunningBot, fake_zoom: FakeZoom) -> tuple[str, str]:
    """A --zoom poll voted on in Slack by people who never checked in (Slack gives the first
    one's email when asked), closed, the session ended.

    Returns:
        The poll message's ts and Zoom's id of the poll.
    """
    message = _launch(bot, POLL + " --zoom", session=False)
    zoom_idle(bot)
    [created] = fake_zoom.polls(MEETING_ID)
    bot.slack.add_user(PARTICIPANT, email=VOTER_EMAIL)  # users.info's profile.email
    _vote(bot, message, 0)  # Agree
    _vote(bot, message, 1, user=OTHER_VOTER)  # Disagree
    bot.slack.wait_for_private_replies(OTHER_VOTER)
    assert bot.command("/poll", "close").text == ""
    assert bot.command("/session", "end").text == ""
    eventually(lambda: _poll(bot).announced_at is not None, timeout=10, what="final results")
    zoom_idle(bot)
    return message["ts"], str(created["id"])


def test_a_zoom_poll_is_created_in_the_meeting_and_the_facilitator_told_to_launch_it(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    message = _launch(bot, POLL + " --multi --zoom", session=False)
    zoom_idle(bot)
    [created] = fake_zoom.polls(MEETING_ID)
    assert created["title"] == QUESTION
    assert created["anonymous"] is False
    assert created["questions"] == [
        {"name": QUESTION, "type": "multiple", "answers": ["Agree", "Disagree"]}
    ]
    [note] = _thread(bot, message["ts"])
    assert "also in the Zoom meeting" in note
    assert "Polls* menu" in note
    assert _zoom_row(bot).zoom_poll_id == created["id"]


def test_a_create_whose_answer_zoom_sent_too_late_leaves_one_poll_in_the_meeting(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    # Zoom stores the poll, but its answer comes after the client has given up.
    fake_zoom.slow("POST", f"/meetings/{MEETING_ID}/polls", seconds=ZOOM_TIMEOUT + 1)
    message = _launch(bot, POLL + " --zoom", session=False)

    def retried() -> bool:
        bot.clock.advance(timedelta(minutes=1))  # past the worker's backoff
        return _zoom_row(bot).status == "created"

    eventually(retried, timeout=30, what="the create task's rerun")
    zoom_idle(bot)
    [created] = fake_zoom.polls(MEETING_ID)
    assert _zoom_row(bot).zoom_poll_id == created["id"]
    assert [c.method for c in fake_zoom.calls if c.path.endswith("/polls")] == [
        "GET",
        "POST",
        "GET",
    ]
    [note] = _thread(bot, message["ts"])
    assert "also in the Zoom meeting" in note


def test_a_title_zoom_cannot_carry_is_refused_before_anything_is_posted(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    posts = len(bot.slack.calls_to("chat.postMessage"))
    long_question = "Q" * 65
    answer = ack_text(bot.command("/poll", f'"{long_question}" "A" "B" --zoom'))
    assert "64 characters" in answer
    assert "has 65" in answer
    assert "Shorten the question" in answer
    eleven = " ".join(f'"Option {n}"' for n in range(11))
    answer = ack_text(bot.command("/poll", f'"Which?" {eleven} --zoom'))
    assert "2 to 10 answers" in answer
    bot.services.outbox.wait_idle()
    assert len(bot.slack.calls_to("chat.postMessage")) == posts
    assert fake_zoom.polls(MEETING_ID) == []
    assert not any(c.path.endswith("/polls") for c in fake_zoom.calls)


def test_zoom_without_a_meeting_in_the_session_is_refused(bot: RunningBot) -> None:
    assert bot.command("/session", 'start "Durham"').text == ""
    answer = ack_text(bot.command("/poll", POLL + " --zoom"))
    assert "no Zoom meeting" in answer
    assert "--zoom &lt;meeting id or join URL&gt;" in answer  # escaped: Slack would link <…>
    assert "Nothing was posted" in answer


def test_zoom_refusing_the_poll_is_said_in_its_thread_and_the_slack_poll_runs(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    fake_zoom.plan = "free"
    message = _launch(bot, POLL + " --zoom", session=False)
    zoom_idle(bot)
    [note] = _thread(bot, message["ts"])
    assert "could not be added to the Zoom meeting" in note
    assert "Pro plan" in note
    assert "The Slack poll carries on" in note
    _vote(bot, message, 0)
    bot.slack.wait_for_private_replies(PARTICIPANT)


def test_zoom_answers_published_late_are_merged_counted_once_and_shown_everywhere(
    bot: RunningBot, fake_zoom: FakeZoom, tmp_path: Path
) -> None:
    _start(bot, fake_zoom)
    ts, zoom_poll_id = _launch_vote_and_end(bot, fake_zoom)
    fetches = [c for c in fake_zoom.calls if "/past_meetings/" in c.path]
    assert [c.status for c in fetches] == [404]  # Zoom has not published them yet
    assert _zoom_row(bot).status == "created"
    # Neither voter checked in: the fetch asked Slack for both voters' emails.
    with bot.services.db.read() as db:
        checked_in = select(Participant).where(col(Participant.checked_in_at).is_not(None))
        assert db.exec(checked_in).all() == []
        known = db.get(SlackEmail, PARTICIPANT)
        assert known is not None
        assert known.email == VOTER_EMAIL
    looked_up = {c.args.get("user") for c in bot.slack.calls_to("users.info")}
    assert {PARTICIPANT, OTHER_VOTER} <= looked_up

    fake_zoom.set_past_polls(
        MEETING_ID,
        [
            # The Slack voter, by email: their Slack vote (Agree) stands.
            _respondent("Part One", "PART1@example.org", "Disagree", zoom_poll_id),
            _respondent("Zoom Only", "zo@example.org", "Agree", zoom_poll_id),
            _respondent("Guest", "", "  agree ", zoom_poll_id),
            _respondent("Odd", "", "Maybe", zoom_poll_id),
        ],
    )
    bot.clock.advance(timedelta(minutes=2))
    assert bot.services.zoom_worker is not None
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    row = _zoom_row(bot)
    assert (row.status, row.answers_added, row.duplicates) == ("merged", 2, 1)

    # The closed poll's message, edited in place: Slack, Zoom and both together.
    shown = all_text(_message(bot, ts)["blocks"])
    assert "Poll closed" in shown
    assert "3 of 4 who voted" in shown  # Agree: 1 in Slack + 2 in Zoom
    assert "Slack 50% (1) · Zoom 100% (2)" in shown
    assert "*4* answered: *2* in Slack, *2* in Zoom" in shown
    assert "counted once" in shown
    assert "“Maybe” (1)" in shown
    thread = _thread(bot, ts)
    assert any("Zoom answers added: 2" in text for text in thread), thread

    # The final summary, edited in place where it was posted.
    summary = next(
        m for m in bot.slack.messages(CHANNEL) if str(m.get("text", "")).startswith("Summary of")
    )
    edits = [c for c in bot.slack.calls_to("chat.update") if c.args.get("ts") == summary["ts"]]
    assert edits
    summary_text = all_text(summary["blocks"])
    assert "Slack 1 · Zoom 2" in summary_text
    assert "of 4 who voted (2 in Slack, 2 in Zoom)" in summary_text

    # The tour report: both sources with each n, and together.
    out = tmp_path / "report.md"
    write_report(
        bot.services.db, SessionFilter(), out, now=bot.clock.now(), progress=print, shown=whole
    )
    report = out.read_text()
    assert "Overall (n = 4)" in report
    assert "| Slack | 2 | 50% (1) | 50% (1) |" in report
    assert "| Zoom | 2 | 100% (2) | 0% (0) |" in report

    # The session's export: both together, each source apart, Zoom's named answers.
    document = session_document(bot.services.db, _poll(bot).session_id)
    [exported] = document["polls"]
    assert exported["n"] == 4
    assert [(s["source"], s["n"]) for s in exported["by_source"]] == [("slack", 2), ("zoom", 2)]
    assert sorted(v["option"] for v in exported["zoom_votes"]) == ["Agree", "Agree"]
    assert all(v["user_id"].startswith("zoom:") for v in exported["zoom_votes"])

    # No more fetching: everything is in.
    bot.clock.advance(timedelta(minutes=10))
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    assert len([c for c in fake_zoom.calls if "/past_meetings/" in c.path]) == 2


def test_a_small_source_and_its_complement_are_hidden_in_every_export_and_the_report(
    bot: RunningBot, fake_zoom: FakeZoom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _start(bot, fake_zoom)
    _, zoom_poll_id = _launch_vote_and_end(bot, fake_zoom)  # 2 in Slack
    in_zoom = [f"z{i}@example.org" for i in range(5)]
    fake_zoom.set_past_polls(
        MEETING_ID, [_respondent(email, email, "Agree", zoom_poll_id) for email in in_zoom]
    )
    bot.clock.advance(timedelta(minutes=2))
    assert bot.services.zoom_worker is not None
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    assert _zoom_row(bot).status == "merged"
    total = 2 + len(in_zoom)
    session_id = str(_poll(bot).session_id)
    monkeypatch.setenv("DATABASE_URL", bot.services.settings.DATABASE_URL)

    def cli(min_group: int, *args: str) -> None:
        monkeypatch.setenv("REPORT_MIN_GROUP", str(min_group))
        assert main(["--env-file", "/nonexistent/.env", *args]) == 0

    # 3 or more: Slack's 2 are too few, and Zoom's 5 would be the total minus them.
    cli(3, "export", "--session", session_id, "--format", "json", "--out", str(tmp_path / "s.json"))
    document = json.loads((tmp_path / "s.json").read_text())
    [exported] = document["polls"]
    assert exported["n"] == total
    assert sum(o["count"] for o in exported["options"]) == total
    assert [(s["source"], s["n"], s["hidden"], s["options"]) for s in exported["by_source"]] == [
        ("slack", None, "fewer than 3", []),
        ("zoom", None, "not shown", []),
    ]
    assert document["small_groups"]["note"] == "Groups of fewer than 3 people are not shown."
    # the person-level lists stay: the organisers' own record
    assert len(exported["votes"]) == 2
    assert len(exported["zoom_votes"]) == len(in_zoom)

    cli(3, "export", "--session", session_id, "--format", "csv", "--out", str(tmp_path / "csv"))
    with (tmp_path / "csv" / "poll_sources.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["source"], r["n"], r["count"]) for r in rows] == [
        ("slack", "fewer than 3", ""),
        ("zoom", "not shown", ""),
    ]

    cli(3, "export", "--session", session_id, "--format", "md", "--out", str(tmp_path / "s.md"))
    md = (tmp_path / "s.md").read_text()
    assert "- Slack: fewer than 3" in md
    assert "- Zoom: not shown" in md
    assert f"n = {total}" in md
    assert "Groups of fewer than 3 people are not shown." in md

    cli(3, "report", "--out", str(tmp_path / "r.md"))
    report = (tmp_path / "r.md").read_text()
    assert f"Overall (n = {total})" in report
    # The session's Slack and Zoom rows went together before the tour's were added up: the
    # report has one row for them, hidden, and none of either source's own.
    by_source = report.split("By source", 1)[1].split("By group", 1)[0]
    assert "| In small groups | not shown | – | – |" in by_source
    assert "| Slack |" not in by_source
    assert "| Zoom |" not in by_source
    cli(3, "report", "--out", str(tmp_path / "r.html"))
    html = (tmp_path / "r.html").read_text()
    assert '<tr class="hidden-group"><td>In small groups</td>' in html
    for source in ("Slack", "Zoom"):
        assert f"<tr><td>{source}</td>" not in html

    # 2: nobody is too few, every row is shown
    cli(2, "export", "--session", session_id, "--format", "json", "--out", str(tmp_path / "a.json"))
    [shown] = json.loads((tmp_path / "a.json").read_text())["polls"]
    assert [(s["source"], s["n"]) for s in shown["by_source"]] == [
        ("slack", 2),
        ("zoom", len(in_zoom)),
    ]
    cli(2, "export", "--session", session_id, "--format", "md", "--out", str(tmp_path / "a.md"))
    assert "fewer than" not in (tmp_path / "a.md").read_text()


def test_a_recurring_meetings_poll_is_deleted_once_its_answers_are_in(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom, meeting_type=8)
    ts, zoom_poll_id = _launch_vote_and_end(bot, fake_zoom)
    assert len(fake_zoom.polls(MEETING_ID)) == 1
    fake_zoom.set_past_polls(
        MEETING_ID, [_respondent("Zoom Only", "zo@example.org", "Disagree", zoom_poll_id)]
    )
    bot.clock.advance(timedelta(minutes=2))
    assert bot.services.zoom_worker is not None
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    assert fake_zoom.polls(MEETING_ID) == []
    [deleted] = [c for c in fake_zoom.calls if c.method == "DELETE"]
    assert deleted.path.endswith(f"/meetings/{MEETING_ID}/polls/{zoom_poll_id}")
    assert _zoom_row(bot).deleted_at is not None
    assert any("Zoom answers added: 1" in text for text in _thread(bot, ts))


def test_no_zoom_answers_within_two_hours_is_said_and_fetching_stops(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    ts, _ = _launch_vote_and_end(bot, fake_zoom)
    assert bot.services.zoom_worker is not None
    for _ in range(60):  # every 2 minutes for 2 hours
        bot.clock.advance(timedelta(minutes=2))
        bot.services.zoom_worker.wake()
        zoom_idle(bot)
    fetches = len([c for c in fake_zoom.calls if "/past_meetings/" in c.path])
    assert fetches == 61  # at the end, then every 2 minutes until 2 hours after it
    assert _zoom_row(bot).status == "no_answers"
    assert any("No Zoom answers" in text for text in _thread(bot, ts))
    bot.clock.advance(timedelta(hours=1))
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    assert len([c for c in fake_zoom.calls if "/past_meetings/" in c.path]) == fetches


def test_polls_without_zoom_change_nothing(bot: RunningBot, fake_zoom: FakeZoom) -> None:
    _start(bot, fake_zoom)
    message = _launch(bot, POLL, session=False)
    zoom_idle(bot)
    assert fake_zoom.polls(MEETING_ID) == []
    assert _thread(bot, message["ts"]) == []
    assert bot.command("/session", "end").text == ""
    zoom_idle(bot)
    assert not any("/past_meetings/" in c.path for c in fake_zoom.calls)


def test_an_anonymous_poll_is_anonymous_in_zoom_and_merges_as_counts_only(
    bot: RunningBot, fake_zoom: FakeZoom
) -> None:
    _start(bot, fake_zoom)
    message = _launch(bot, POLL + " --anonymous --zoom", session=False)
    zoom_idle(bot)
    [created] = fake_zoom.polls(MEETING_ID)
    assert created["anonymous"] is True
    _vote(bot, message, 1)
    bot.slack.wait_for_private_replies(PARTICIPANT)
    assert bot.command("/poll", "close").text == ""
    assert bot.command("/session", "end").text == ""
    eventually(lambda: _poll(bot).announced_at is not None, timeout=10, what="final results")
    fake_zoom.set_past_polls(
        MEETING_ID,
        [_respondent("Anonymous", "", "Agree", created["id"]) for _ in range(3)],
    )
    zoom_idle(bot)
    assert bot.services.zoom_worker is not None
    bot.clock.advance(timedelta(minutes=2))
    bot.services.zoom_worker.wake()
    zoom_idle(bot)
    with bot.services.db.read() as db:
        stored = db.exec(select(ZoomAnswer)).all()
    assert [(a.user_id, a.option_index, a.count) for a in stored] == [(None, 0, 3)]
    shown = all_text(_message(bot, message["ts"])["blocks"])
    assert "*4* answered: *1* in Slack, *3* in Zoom" in shown
