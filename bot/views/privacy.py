"""The one-line privacy notice, as Slack shows it."""

from __future__ import annotations

from bot.privacy.notice import PrivacyNotice
from bot.views.common import esc

NOTICE_TEXT_MAX = 1000


def privacy_line(notice: PrivacyNotice) -> str:
    """What is stored, who sees it, how long it is kept, how to withdraw, and the organiser's
    own notice (a link, or their text)."""
    line = (
        ":lock: *Privacy:* the bot keeps your check-in (role, place, group), your votes and "
        "your room's report-back, with your Slack ID (and, for a Zoom meeting, your Slack "
        "email). The organisers and facilitators see them; this channel sees your room and its "
        "report-back; the organisers' report shows totals, and quotes by role and place only, "
        f"never a role, place or group of fewer than {notice.min_group} people. It is kept "
        f"{notice.kept}. To withdraw a quote or your data, ask a facilitator."
    )
    if notice.url:
        # A URL with | or > would break Slack's link syntax: those are escaped.
        url = notice.url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
        line += f" <{url}|Privacy notice>"
    if notice.text:
        line += " " + esc(notice.text, NOTICE_TEXT_MAX)
    return line
