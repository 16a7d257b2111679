"""A session bound to a Zoom meeting, polls in it, and a stand-in for the Zoom API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from bot.clock import FixedClock
from bot.zoom.api import Category, ZoomApi
from storage import polls as poll_store
from storage import repository as repo
from storage.db import Database
from storage.polls import Poll
from storage.zoom import meetings as meeting_store

MEETING_ID = "81234567890"
UUID = "abc+/def=="


def zoom_session(
    db: Database, clock: FixedClock, *, meeting_type: int | None = 2, problem: str | None = None
) -> int:
    """A running session bound to a meeting the lookup found (or did not: `problem`)."""
    with db.transaction() as s:
        session = repo.create_session(
            s,
            channel_id="C1",
            title="Durham",
            area=None,
            group_type=None,
            zoom_meeting_id=MEETING_ID,
            started_by="U1",
            now=clock.now(),
        )
        assert session.id is not None
        meeting_store.bind_meeting(s, session_id=session.id, meeting_id=MEETING_ID)
        meeting_store.save_meeting(
            s,
            session_id=session.id,
            looked_up_at=clock.now(),
            meeting_type=meeting_type,
            uuid=UUID,
            problem=problem,
        )
        return session.id


def create_poll(
    db: Database,
    clock: FixedClock,
    session_id: int,
    *,
    question: str = "Back the strike?",
    options: tuple[str, ...] = ("Agree", "Disagree"),
    multi: bool = False,
    anonymous: bool = False,
) -> Poll:
    with db.transaction() as s:
        return poll_store.create_poll(
            s,
            session_id=session_id,
            channel_id="C1",
            key="strike",
            question=question,
            options=options,
            multi=multi,
            anonymous=anonymous,
            hide_results=False,
            created_by="U1",
            now=clock.now(),
            closes_at=clock.now() + timedelta(minutes=2),
        )


Answer = dict[str, Any] | Exception | Callable[[], dict[str, Any]]


@dataclass
class StubZoom:
    """Answers each (method, path) with what the test queued (the last answer repeats)."""

    answers: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    calls: list[tuple[str, str, Category, Any]] = field(default_factory=list)

    def answer(self, method: str, path: str, *answers: Answer) -> None:
        self.answers[(method, path)] = list(answers)

    def _call(self, method: str, path: str, category: Category, body: Any = None) -> dict[str, Any]:
        self.calls.append((method, path, category, body))
        queued = self.answers.get((method, path))
        if not queued:
            raise AssertionError(f"unexpected Zoom call {method} {path}")
        answer = queued.pop(0) if len(queued) > 1 else queued[0]
        if isinstance(answer, Exception):
            raise answer
        return answer() if callable(answer) else answer

    def get(self, path: str, *, category: Category, params: Any = None) -> dict[str, Any]:
        return self._call("GET", path, category)

    def post(self, path: str, *, category: Category, body: Any) -> dict[str, Any]:
        return self._call("POST", path, category, body)

    def delete(self, path: str, *, category: Category) -> dict[str, Any]:
        return self._call("DELETE", path, category)

    @property
    def api(self) -> ZoomApi:
        return cast(ZoomApi, self)
