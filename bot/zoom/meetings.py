"""Zoom meeting references as facilitators type them."""

from __future__ import annotations

import re
from urllib.parse import quote

_MEETING_URL = re.compile(
    r"^https?://(?:[\w-]+\.)*zoom(?:gov)?\.(?:us|com)/(?:j|w|s|wc(?:/join)?|my)/(\d{9,11})(?:[/?#].*)?$",
    re.IGNORECASE,
)
_MEETING_ID = re.compile(r"^\d{9,11}$")


def parse_meeting_id(text: str) -> str | None:
    """The meeting ID in a Zoom join URL or a typed ID ("812 3456 7890"); None if neither."""
    text = text.strip().strip("<>").split("|", 1)[0]  # Slack wraps URLs as <url> or <url|label>
    digits = re.sub(r"[\s-]", "", text)
    if _MEETING_ID.match(digits):
        return digits
    match = _MEETING_URL.match(text)
    return match.group(1) if match else None


def format_meeting_id(meeting_id: str) -> str:
    """A meeting id as Zoom shows it: 812 3456 7890 (11 digits), 123 456 7890 (10), 123 456 789."""
    digits = meeting_id
    if len(digits) == 11:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if len(digits) in (9, 10):
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return digits


def encode_meeting(meeting_id_or_uuid: str) -> str:
    """The path segment for a meeting id or instance uuid, encoded as Zoom requires.

    Zoom wants uuids that start with "/" or contain "//" double-encoded; every other uuid is
    encoded once ("+", "/" and "=" are base64 characters). A numeric id is left as it is.
    """
    once = quote(meeting_id_or_uuid, safe="")
    if meeting_id_or_uuid.startswith("/") or "//" in meeting_id_or_uuid:
        return quote(once, safe="")
    return once


def meeting_path(meeting_id_or_uuid: str) -> str:
    """The API path of a meeting or meeting instance: "/meetings/<encoded id or uuid>"."""
    return "/meetings/" + encode_meeting(meeting_id_or_uuid)
