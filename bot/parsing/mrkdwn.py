"""Slack's escaping of &, < and >: undone on command text, applied to text we show."""

from __future__ import annotations


def unescape_slack(text: str) -> str:
    """Undo Slack's escaping of &, < and > in command text."""
    # &amp; last, so a user's literal "&lt;" (sent as "&amp;lt;") stays "&lt;".
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape_mrkdwn(text: str) -> str:
    """Escape &, < and > so Slack shows them as text rather than markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
