"""Small groups through the real app and the CLI: the session summary in both channels and the
tour report (.md and .html) hide roles and groups of fewer than REPORT_MIN_GROUP people, and the
next smallest row that would give them away; totals stay as they are."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from storage import repository as repo
from tests.e2e.conftest import CHANNEL, RunningBot
from tests.harness.tour_data import add_closed_poll
from tests.harness.waiting import eventually

SUMMARY_CHANNEL = "C0SUMMARY"
# role -> (group, how many people, how many of them agree)
PEOPLE = {
    "Member": ("CLP", 7, 5),
    "Branch officer": ("CLP", 5, 3),
    "Councillor": ("Council group", 2, 0),
}
OPTIONS = ["Agree", "Disagree"]


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    min_group = getattr(request, "param", 5)
    return {"SUMMARY_CHANNEL": SUMMARY_CHANNEL, "REPORT_MIN_GROUP": str(min_group)}


def _session_with_a_poll(bot: RunningBot) -> int:
    """A session whose people checked in with a role and group, and a closed poll they all
    answered; then ended, so its final summary is posted."""
    assert bot.command("/session", 'start "Durham" --area Durham').text == ""
    bot.slack.wait_for("chat.postMessage")
    session = bot.services.sessions.active_session(CHANNEL)
    assert session is not None
    assert session.id is not None
    votes = {}
    with bot.services.db.transaction() as s:
        for role, (group, people, agree) in PEOPLE.items():
            for i in range(people):
                user = f"U{role[:3].upper()}{i:02d}"
                repo.check_in(
                    s,
                    session_id=session.id,
                    user_id=user,
                    role=role,
                    place="Durham",
                    group_name=group,
                    consent_to_quote=False,
                    now=bot.clock.now(),
                )
                votes[user] = 0 if i < agree else 1
    add_closed_poll(
        bot.services.db,
        session_id=session.id,
        channel_id=CHANNEL,
        question="Fund the NHS?",
        options=OPTIONS,
        votes=votes,
        now=bot.clock.now(),
    )
    assert bot.command("/session", "end").text == ""
    eventually(lambda: _summary_text(bot, SUMMARY_CHANNEL), what="summary posted")
    eventually(lambda: _summary_text(bot, CHANNEL), what="summary posted in the session")
    return session.id


def _summary_text(bot: RunningBot, channel: str) -> str:
    posts = [
        m for m in bot.slack.messages(channel) if str(m.get("text", "")).startswith("Summary of")
    ]
    return json.dumps([m["blocks"] for m in posts], ensure_ascii=False) if posts else ""


def _cli(bot: RunningBot, monkeypatch: pytest.MonkeyPatch, min_group: int, *args: str) -> None:
    monkeypatch.setenv("DATABASE_URL", bot.services.settings.DATABASE_URL)
    monkeypatch.setenv("REPORT_MIN_GROUP", str(min_group))
    assert main(["--env-file", "/nonexistent/.env", *args]) == 0


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole)


def _total() -> int:
    return sum(people for _, people, _ in PEOPLE.values())


def test_the_summary_hides_a_small_role_and_its_complement(bot: RunningBot) -> None:
    _session_with_a_poll(bot)
    groups: Counter[str] = Counter()
    for group, people, _ in PEOPLE.values():
        groups[group] += people
    for channel in (CHANNEL, SUMMARY_CHANNEL):
        text = _summary_text(bot, channel)
        assert f"{_total()} checked in" in text  # the hidden people still count
        assert f"of {_total()} who voted" in text
        assert f"• Member — {PEOPLE['Member'][1]}" in text
        # Councillors (2) are few; officers (5) would be 14 - 7 - 2: hidden too
        assert "• Councillor — fewer than 5" in text
        assert "• Branch officer — not shown" in text
        assert f"• Branch officer — {PEOPLE['Branch officer'][1]}" not in text
        # two groups: the small one hidden, so the other one too (it is the total minus it)
        assert "• Council group — fewer than 5" in text
        assert "• CLP — not shown" in text
        assert f"• CLP — {groups['CLP']}" not in text
        assert "Groups of fewer than 5 people are not shown." in text


@pytest.mark.parametrize("settings_overrides", [1], indirect=True)
def test_min_group_1_shows_every_row_of_the_summary(bot: RunningBot) -> None:
    _session_with_a_poll(bot)
    text = _summary_text(bot, SUMMARY_CHANNEL)
    for role, (_, people, _) in PEOPLE.items():
        assert f"• {role} — {people}" in text
    assert "fewer than" not in text
    assert "are not shown" not in text


def _md_rows(section: str) -> dict[str, list[str]]:
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and not set(line) <= set("|-: "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_the_tour_report_hides_small_rows_in_markdown_and_html(
    bot: RunningBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _session_with_a_poll(bot)
    md_path, html_path = tmp_path / "report.md", tmp_path / "report.html"
    _cli(bot, monkeypatch, 5, "report", "--out", str(md_path))
    _cli(bot, monkeypatch, 5, "report", "--out", str(html_path))
    md = md_path.read_text()
    assert "Groups of fewer than 5 people are not shown." in md
    assert f"Check-ins (a person at two sessions counts twice): {_total()}" in md
    poll = md.split("### Fund the NHS?", 1)[1]
    assert f"Overall (n = {_total()})" in poll
    by_role = _md_rows(poll.split("By role", 1)[1].split("By session", 1)[0])
    _, members, agree = PEOPLE["Member"]
    assert by_role["Member"] == [
        str(members),
        f"{_percent(agree, members)}%",
        f"{_percent(members - agree, members)}%",
    ]
    # The session's Councillors (2) and, so they cannot be worked out, its Branch officers (5)
    # are set apart together before anything is added up: the tour report has no row of its
    # own for either, nor any figure of theirs but in the totals.
    assert by_role["In small groups"] == ["not shown", "–", "–"]
    assert set(by_role) == {"Role", "Member", "In small groups"}  # and the header
    by_group = _md_rows(poll.split("By group", 1)[1].split("By role", 1)[0])
    # CLP (12) and Council group (2): the session's every group.
    assert set(by_group) == {"Group", "In small groups"}
    assert by_group["In small groups"] == ["not shown", "–", "–"]
    attendance = _md_rows(md.split("## Attendance", 1)[1].split("## Poll results", 1)[0])
    assert attendance["Member"] == [str(members)]
    assert attendance["In small groups"] == ["not shown"]
    assert "Councillor" not in attendance
    assert "Branch officer" not in attendance
    assert "Councillor" not in md
    assert "Council group" not in md

    html = html_path.read_text()
    assert "Groups of fewer than 5 people are not shown." in html
    assert "added up in the row “In small groups”" in html
    assert (
        len(
            re.findall(
                r'<tr class="hidden-group"><td>In small groups</td><td class="num" colspan="3">'
                "not shown<",
                html,
            )
        )
        == 2
    )  # by group and by role
    assert re.search(rf"<tr><td>Member</td><td class=\"num\">{members}</td>", html)
    assert '<td>Councillor</td><td class="num">2</td>' not in html

    everything = tmp_path / "all.md"
    _cli(bot, monkeypatch, 1, "report", "--out", str(everything))
    shown = everything.read_text()
    assert "fewer than" not in shown
    roles = _md_rows(shown.split("By role", 1)[1].split("By session", 1)[0])
    for role, (_, people, agree) in PEOPLE.items():
        assert roles[role][:2] == [str(people), f"{_percent(agree, people)}%"]
