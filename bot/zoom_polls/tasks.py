"""The Zoom worker's poll tasks: create a poll in the meeting, fetch its answers after the
meeting (every 2 minutes for up to 2 hours), and delete it from a recurring meeting.

Each handler reads what it needs, calls Zoom, then writes what Zoom said with the Slack posts it
owes in one transaction; each is safe to run twice (a crash between the call and the commit).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from bot.clock import Clock
from bot.outbox import queue
from bot.summaries.effects import summary_edit
from bot.zoom.api import (
    Category,
    ZoomApi,
    ZoomError,
    ZoomForbidden,
    ZoomNotFound,
    ZoomRejected,
    encode_meeting,
    meeting_path,
)
from bot.zoom.presence import EMAIL_RETRY
from bot.zoom.presence_effects import slack_email_lookup
from bot.zoom.tasks import Again, GiveUp
from bot.zoom_polls.effects import (
    CREATED,
    NO_ANSWERS,
    REFUSED,
    RESULTS_REFUSED,
    zoom_poll_note,
    zoom_poll_results,
)
from bot.zoom_polls.rules import (
    RECURRING_TYPES,
    merge_answers,
    poll_body,
    responses_for,
    same_poll,
)
from bot.zoom_polls.service import (
    CREATE,
    DELETE,
    EMAIL_EVERY,
    EMAIL_WAIT,
    FETCH_EVERY,
    FETCH_FOR,
    RESULTS,
)
from storage import polls as poll_store
from storage import privacy
from storage import repository as repo
from storage.db import Database
from storage.polls import Poll
from storage.zoom import meetings as meeting_store
from storage.zoom import people as people_store
from storage.zoom import polls as store
from storage.zoom.meetings import DueTask, ZoomMeeting
from storage.zoom.polls import ZoomPoll

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Waiting:
    """A poll whose Zoom answers are awaited, with what merging them needs."""

    zoom: ZoomPoll
    poll: Poll
    options: tuple[str, ...]


class ZoomPollTasks:
    """The handlers the Zoom worker runs for polls."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def handlers(self) -> dict[str, Any]:
        """Each task kind with its handler, for `ZoomWorker.register`."""
        return {CREATE: self.create, RESULTS: self.fetch_results, DELETE: self.delete}

    # -- creating ----------------------------------------------------------------------------

    def create(self, api: ZoomApi, task: DueTask) -> GiveUp | None:
        """POST the poll to the meeting (unless it is there already: a rerun after a lost
        answer); its thread is told to launch it from Zoom, or why Zoom would not take it (the
        Slack poll carries on either way)."""
        poll_id = int(task.args["poll_id"])
        with self.db.read() as db:
            zoom = store.zoom_poll_of(db, poll_id=poll_id)
            poll = poll_store.get_poll(db, poll_id=poll_id)
            options = poll_store.poll_options(db, poll_id=poll_id)
        if zoom is None or poll is None or zoom.status != store.CREATING:
            return None  # undone since, or done by an earlier run
        body = poll_body(
            question=poll.question, options=options, multi=poll.multi, anonymous=poll.anonymous
        )
        path = f"{meeting_path(zoom.meeting_id)}/polls"
        try:
            # An earlier run may have created it with Zoom's answer lost (a timeout): adopt it.
            listed = api.get(path, category=Category.LIGHT)
            with self.db.read() as db:
                taken = store.claimed_zoom_poll_ids(db, meeting_id=zoom.meeting_id)
            zoom_poll_id = same_poll(listed, body, taken=taken)
            if zoom_poll_id is None:
                created = api.post(path, category=Category.LIGHT, body=body)
                zoom_poll_id = str(created.get("id") or "")
        except (ZoomNotFound, ZoomForbidden, ZoomRejected) as error:
            # Zoom's final word (ZoomUnavailable is the worker's: it tries again later).
            problem = creation_problem(error)
            with self.db.transaction() as db:
                store.set_problem(db, poll_id=poll_id, problem=problem, status=store.REFUSED)
                queue(db, zoom_poll_note(poll_id, REFUSED), now=self.clock.now())
            return GiveUp(problem)
        if not zoom_poll_id:
            return GiveUp("Zoom created the poll but gave no id for it")
        with self.db.transaction() as db:
            if store.set_created(db, poll_id=poll_id, zoom_poll_id=zoom_poll_id):
                queue(db, zoom_poll_note(poll_id, CREATED), now=self.clock.now())
        return None

    # -- fetching the answers ------------------------------------------------------------------

    def fetch_results(self, api: ZoomApi, task: DueTask) -> Again | GiveUp | None:
        """GET the meeting's past polls and merge each awaited poll's answers, once.

        Zoom answers 404 (or no rows) until it has published them: then again in 2 minutes.
        A poll still open in Slack waits for its close (its Slack voters are not all known yet),
        and a closed one for its Slack voters' emails (looked up now, checked every 30 s for up
        to 10 minutes), so that a Zoom respondent who also voted in Slack counts once.
        A poll with no answers 2 hours after the later of the fetch's start and its close is
        given up, and its thread says so.
        """
        now = self.clock.now()
        since = _time(task.args.get("since")) or task.created_at
        with self.db.read() as db:
            meeting = meeting_store.meeting_of(db, session_id=task.session_id)
            waiting = self._waiting(db, task.session_id)
            creating = store.zoom_polls_of(
                db, session_id=task.session_id, statuses=(store.CREATING,)
            )
            purged = privacy.is_purged(db, session_id=task.session_id)
        if meeting is None or (not waiting and not creating):
            return None
        if purged:
            self._purged(meeting, waiting, now=now)
            return None
        closed = [w for w in waiting if w.poll.closed_at is not None]
        # Counted once needs every Slack voter's email, checked in or not: a poll merges once
        # Slack has answered their look-ups, or EMAIL_WAIT after its close regardless.
        owed = self._ask_emails(closed, now=now)
        held = [w for w in closed if w.poll.id in owed and now < _email_deadline(w, since)]
        ready = [w for w in closed if w not in held]
        payload: Mapping[str, Any] | None = None
        if closed:
            # The instance the fetch was queued for: a later one's answers are its own fetch's.
            instance = task.args.get("uuid")
            if not (isinstance(instance, str) and instance):
                instance = meeting.uuid or meeting.meeting_id
            try:
                payload = api.get(
                    f"/past_meetings/{encode_meeting(instance)}/polls", category=Category.MEDIUM
                )
            except ZoomNotFound:
                payload = None  # not published yet
            except ZoomForbidden as error:
                self._refused(meeting, waiting, str(error.message or error))
                return GiveUp(f"Zoom would not give the poll answers: {error}")
        merged = self._merge(meeting, ready, payload, now=now) if payload else set()
        left = [w for w in waiting if w.poll.id not in merged]
        overdue = [w for w in left if now >= _deadline(w, since)]
        if overdue:
            self._no_answers(meeting, overdue, now=now)
        still = [w for w in left if w not in overdue]
        if not still and not (creating and now < since + FETCH_FOR):
            return None
        at = now + (EMAIL_EVERY if held else FETCH_EVERY)
        if still and all(w.poll.closed_at is None for w in still):
            at = max(at, min(w.poll.closes_at for w in still))
        return Again(at=at)

    def _ask_emails(self, closed: list[_Waiting], *, now: datetime) -> set[int]:
        """Queue Slack's look-up of each closed poll's voters whose email the bot does not know
        (presence's effect: once per person and session); returns the polls still owed one."""
        fresh = now - EMAIL_RETRY
        unknown: dict[int, list[tuple[int, str]]] = {}
        with self.db.read() as db:
            for waiting in closed:
                poll = waiting.poll
                assert poll.id is not None
                voters = store.poll_voters(db, poll_id=poll.id)  # named and anonymous alike
                for user_id in sorted(voters):
                    if not people_store.is_zoom_only(user_id) and not (
                        people_store.slack_email_known(db, user_id=user_id, looked_up_after=fresh)
                    ):
                        unknown.setdefault(poll.id, []).append((poll.session_id, user_id))
        if unknown:
            with self.db.transaction() as db:
                for people in unknown.values():
                    for session_id, user_id in people:
                        lookup = slack_email_lookup(session_id=session_id, user_id=user_id)
                        queue(db, lookup, now=now)
        return set(unknown)

    def _waiting(self, db: Session, session_id: int) -> list[_Waiting]:
        rows = store.zoom_polls_of(db, session_id=session_id, statuses=(store.CREATED,))
        waiting = []
        for zoom in rows:
            poll = poll_store.get_poll(db, poll_id=zoom.poll_id)
            if poll is not None:
                options = tuple(poll_store.poll_options(db, poll_id=zoom.poll_id))
                waiting.append(_Waiting(zoom, poll, options))
        return waiting

    def _merge(
        self,
        meeting: ZoomMeeting,
        closed: list[_Waiting],
        payload: Mapping[str, Any],
        *,
        now: datetime,
    ) -> set[int]:
        """Merge the answers of each closed poll that has some; returns their poll ids."""
        merged: set[int] = set()
        with self.db.transaction() as db:
            for waiting in closed:
                poll = waiting.poll
                assert poll.id is not None
                responses = responses_for(
                    payload, zoom_poll_id=waiting.zoom.zoom_poll_id, question=poll.question
                )
                if not responses:
                    continue
                merge = merge_answers(
                    responses,
                    poll_id=poll.id,
                    options=waiting.options,
                    multi=poll.multi,
                    anonymous=poll.anonymous,
                    slack_voters=store.poll_voters(db, poll_id=poll.id),
                    voter_emails=set(store.voters_by_email(db, poll_id=poll.id)),
                    people=people_store.users_for_emails(
                        db,
                        session_id=poll.session_id,
                        emails=[r.email for r in responses if r.email],
                    ),
                )
                if store.save_answers(
                    db,
                    poll_id=poll.id,
                    rows=merge.rows,
                    added=merge.added,
                    duplicates=merge.duplicates,
                    now=now,
                ):
                    merged.add(poll.id)
                    queue(db, zoom_poll_results(poll.id), now=now)
                    self._delete_later(db, meeting, waiting.zoom, now=now)
            session = repo.get_session(db, session_id=meeting.session_id)
            if merged and session is not None and session.ended_at is not None:
                # The final summary is queued (or posted): show it again with Zoom's answers.
                queue(db, summary_edit(meeting.session_id), now=now)
        return merged

    def _purged(self, meeting: ZoomMeeting, waiting: list[_Waiting], *, now: datetime) -> None:
        """The session was purged before Zoom gave its answers: they are not fetched, so no
        name or email comes back into it; its polls stop waiting, untold (nobody runs it)."""
        logger.info("Zoom answers for purged session %s are not fetched", meeting.session_id)
        with self.db.transaction() as db:
            for each in waiting:
                if store.give_up_answers(db, poll_id=each.zoom.poll_id, now=now):
                    self._delete_later(db, meeting, each.zoom, now=now)

    def _no_answers(self, meeting: ZoomMeeting, overdue: list[_Waiting], *, now: datetime) -> None:
        with self.db.transaction() as db:
            for waiting in overdue:
                poll_id = waiting.zoom.poll_id
                if store.give_up_answers(db, poll_id=poll_id, now=now):
                    queue(db, zoom_poll_note(poll_id, NO_ANSWERS), now=now)
                    self._delete_later(db, meeting, waiting.zoom, now=now)

    def _refused(self, meeting: ZoomMeeting, waiting: list[_Waiting], message: str) -> None:
        now = self.clock.now()
        with self.db.transaction() as db:
            for item in waiting:
                poll_id = item.zoom.poll_id
                if store.give_up_answers(db, poll_id=poll_id, now=now):
                    store.set_problem(db, poll_id=poll_id, problem=message)
                    queue(db, zoom_poll_note(poll_id, RESULTS_REFUSED), now=now)
                    self._delete_later(db, meeting, item.zoom, now=now)

    def _delete_later(
        self, db: Session, meeting: ZoomMeeting, zoom: ZoomPoll, *, now: datetime
    ) -> None:
        """A recurring meeting keeps its polls for the next occurrence: delete the bot's."""
        if meeting.meeting_type in RECURRING_TYPES and zoom.zoom_poll_id:
            meeting_store.add_task(
                db,
                key=f"zoom:poll:{zoom.poll_id}:delete:{zoom.zoom_poll_id}",
                kind=DELETE,
                session_id=zoom.session_id,
                now=now,
                args={"poll_id": zoom.poll_id},
            )

    # -- deleting ----------------------------------------------------------------------------

    def delete(self, api: ZoomApi, task: DueTask) -> None:
        """DELETE the poll from its recurring meeting (gone already counts as done)."""
        poll_id = int(task.args["poll_id"])
        with self.db.read() as db:
            zoom = store.zoom_poll_of(db, poll_id=poll_id)
        if zoom is None or not zoom.zoom_poll_id or zoom.deleted_at is not None:
            return
        with contextlib.suppress(ZoomNotFound):  # deleted in Zoom already
            api.delete(
                f"{meeting_path(zoom.meeting_id)}/polls/{quote(zoom.zoom_poll_id, safe='')}",
                category=Category.LIGHT,
            )
        with self.db.transaction() as db:
            store.mark_deleted(db, poll_id=poll_id, now=self.clock.now())


def creation_problem(error: ZoomError) -> str:
    """Why Zoom would not create a poll, in plain words with Zoom's own."""
    said = error.message or str(error)
    if isinstance(error, ZoomNotFound):
        return f"Zoom did not find the meeting (Zoom said: {said})"
    if isinstance(error, ZoomForbidden):
        return (
            f"Zoom would not allow it (Zoom said: {said}). Zoom polls need the meeting's host "
            "on a Pro plan or higher, with polling turned on"
        )
    return (
        f"Zoom refused it (Zoom said: {said}). Zoom adds polls only to scheduled meetings, "
        "not instant ones"
    )


def _email_deadline(waiting: _Waiting, since: datetime) -> datetime:
    """When a poll stops waiting for its Slack voters' emails (then merges without them)."""
    closed = waiting.poll.closed_at or waiting.poll.closes_at
    return max(since, closed) + EMAIL_WAIT


def _deadline(waiting: _Waiting, since: datetime) -> datetime:
    """When to stop waiting for a poll's Zoom answers: 2 hours after the fetch began, or after
    the poll closed in Slack if that was later."""
    closed = waiting.poll.closed_at or waiting.poll.closes_at
    return max(since, closed) + FETCH_FOR


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
