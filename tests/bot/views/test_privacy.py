"""The privacy line: what is kept, who sees it, how long, how to withdraw, whose notice."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import PRIVACY_URL_MAX, load_settings
from bot.privacy.notice import PrivacyNotice
from bot.sessions import SessionView
from bot.views.common import SECTION_TEXT_MAX, context
from bot.views.privacy import NOTICE_TEXT_MAX, privacy_line
from bot.views.sessions import render_session_ended
from storage.models import ListeningSession
from storage.repository import Attendance


def test_by_default_it_says_what_is_kept_until_when_and_how_to_withdraw() -> None:
    line = privacy_line(PrivacyNotice())
    assert "check-in (role, place, group), your votes and your room's report-back" in line
    assert "Slack ID" in line
    assert "The organisers and facilitators see them" in line  # who sees it
    assert "this channel sees your room and its report-back" in line
    assert "until the organisers delete it" in line
    assert "fewer than 5 people" in line
    assert "ask a facilitator" in line
    assert "<http" not in line  # no link was set


def test_the_settings_give_the_link_the_text_and_the_retention() -> None:
    settings = load_settings(
        env_file=None,
        PRIVACY_NOTICE_URL="https://example.org/privacy",
        PRIVACY_NOTICE_TEXT="Data controller: the Labour Party.",
        DATA_RETENTION_DAYS=90,
        REPORT_MIN_GROUP=8,
    )
    line = privacy_line(PrivacyNotice.from_settings(settings))
    assert "<https://example.org/privacy|Privacy notice>" in line
    assert line.endswith(" Data controller: the Labour Party.")
    assert "kept for 90 days after the session" in line
    assert "fewer than 8 people" in line
    assert "for 1 day after" in privacy_line(PrivacyNotice(retention_days=1))


def test_the_organisers_text_cannot_ping_or_fake_a_link() -> None:
    line = privacy_line(
        PrivacyNotice(
            url="https://example.org/p?a=1|evil>x",
            text="<!channel> see <https://evil.example|our notice> & more",
        )
    )
    assert "<!channel>" not in line
    assert "&lt;!channel&gt;" in line
    assert "<https://evil.example|" not in line
    assert "<https://example.org/p?a=1%7Cevil%3Ex|Privacy notice>" in line


def test_the_longest_link_and_text_fit_one_block_with_the_link_whole() -> None:
    url = "https://example.org/" + "p" * (PRIVACY_URL_MAX - len("https://example.org/"))
    block = context(privacy_line(PrivacyNotice(url=url, text="&" * NOTICE_TEXT_MAX)))
    block.validate_json()  # slack_sdk: within Slack's limits
    [element] = block.to_dict()["elements"]
    assert len(element["text"]) <= SECTION_TEXT_MAX
    assert f"<{url}|Privacy notice>" in element["text"]


def test_the_end_of_a_session_hides_small_roles_and_those_that_would_give_them_away() -> None:
    now = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    session = ListeningSession(
        id=1, channel_id="C1", title="Durham", started_by="U1", started_at=now, ended_at=now
    )
    attendance = Attendance(
        checked_in=31,
        by_role=[("Member", 20), ("Officer", 7), ("Councillor", 3), ("Mayor", 1)],
        by_group=[],
        not_checked_in=0,
    )
    _text, blocks = render_session_ended(SessionView(session, attendance), min_group=5)
    shown = str([block.to_dict() for block in blocks])
    assert "*Checked in:* 31" in shown
    assert "• Member — 20" in shown
    # 3 + 1 hidden make 4, fewer than 5 together: Officer (7) is hidden with them, and reads
    # "not shown" (it is not a small group).
    assert "• Councillor — fewer than 5" in shown
    assert "• Mayor — fewer than 5" in shown
    assert "• Officer — not shown" in shown
    assert "Groups of fewer than 5 people are not shown." in shown
    _text, blocks = render_session_ended(SessionView(session, attendance), min_group=1)
    everything = str([block.to_dict() for block in blocks])
    assert "• Mayor — 1" in everything
    assert "not shown" not in everything
