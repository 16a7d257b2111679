"""The privacy notice people see where they first give data: at check-in, and with the first
vote of someone who has not checked in."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings


@dataclass(frozen=True)
class PrivacyNotice:
    """What the organiser set: a link or a short text, and how long identities are kept."""

    url: str | None = None
    text: str | None = None
    retention_days: int | None = None
    min_group: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> PrivacyNotice:
        """PRIVACY_NOTICE_URL, PRIVACY_NOTICE_TEXT, DATA_RETENTION_DAYS, REPORT_MIN_GROUP."""
        return cls(
            url=settings.PRIVACY_NOTICE_URL,
            text=settings.PRIVACY_NOTICE_TEXT,
            retention_days=settings.DATA_RETENTION_DAYS,
            min_group=settings.REPORT_MIN_GROUP,
        )

    @property
    def kept(self) -> str:
        """How long what people give is kept, in words."""
        if self.retention_days is None:
            return "until the organisers delete it"
        days = self.retention_days
        return f"for {days} day{'s' if days != 1 else ''} after the session"
