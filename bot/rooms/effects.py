"""What breakout rounds owe Slack, as outbox effects: kinds, keys and targets.

Every public post of a round (room messages, their threads, their refreshes, report-backs) has
the round as its target, so they go out one at a time in the order they were queued: Slack
posts at most about one message a second per channel anyway, a room's message is posted before
anything goes in its thread, and the first room is posted before the others (if the bot cannot
post it, the round is undone before anything else appears). Private notices have their person
as the target, so each person hears of their rooms in order. Every key starts with its round
(`round:{id}:…`), so undoing a round forgets what it owed. Rows hold ids; `bot.slack.rooms`
renders them from the database when they are sent.
"""

from __future__ import annotations

from bot.outbox import BULK, PUBLIC, REPLY, Effect
from storage.outbox import ArgValue

ROOM_POST = "room.post"  # a new round's room message, with the Report back button
ROOM_NOTICE = "room.notice"  # a member is told their room, privately, once it is posted
ROOM_WARNING = "room.warning"  # "about 2 minutes left", only while the round runs
ROOM_END = "room.end"  # time's up, or the session has ended
ROOM_REMINDER = "room.reminder"  # the one reminder for a room without a report-back
MEMBER_TOLD = "room.member_told"  # a late arrival or a moved person is told their room
MEMBER_NOTE = "room.member_note"  # a room's thread hears who joined or left
ROOM_REFRESH = "room.refresh"  # a room message shows its members again
REPORT_THREAD = "report.thread"  # a report-back version in full, in the room's thread
REPORT_CHANNEL = "report.channel"  # the compact channel post, updated in place
REPORT_THREAD_EDIT = "report.thread_edit"  # a version's thread post shown again (quote withdrawn)
NOTE_EDIT = "room.note_edit"  # a posted "joined"/"left" note shown again (its person erased)

KINDS = (
    ROOM_POST,
    ROOM_NOTICE,
    ROOM_WARNING,
    ROOM_END,
    ROOM_REMINDER,
    MEMBER_TOLD,
    MEMBER_NOTE,
    ROOM_REFRESH,
    REPORT_THREAD,
    REPORT_CHANNEL,
    REPORT_THREAD_EDIT,
    NOTE_EDIT,
)


def round_keys(round_id: int) -> str:
    """What the key of every effect of a round starts with."""
    return f"round:{round_id}:"


def round_target(round_id: int) -> str:
    """The target every public post of a round shares."""
    return f"round:{round_id}"


def user_target(user_id: str) -> str:
    """The target a person's private notices share."""
    return f"user:{user_id}"


def _room_effect(kind: str, step: str, round_id: int, room_id: int) -> Effect:
    return Effect(
        key=f"round:{round_id}:room:{room_id}:{step}",
        kind=kind,
        target=round_target(round_id),
        priority=PUBLIC,
        args={"round_id": round_id, "room_id": room_id},
    )


def room_post(round_id: int, room_id: int, *, response_url: str | None) -> Effect:
    """Post a room's message; the command's response_url tells the facilitator if Slack refuses."""
    return Effect(
        key=f"round:{round_id}:room:{room_id}:post",
        kind=ROOM_POST,
        target=round_target(round_id),
        priority=PUBLIC,
        args={"round_id": round_id, "room_id": room_id},
        response_url=response_url,
    )


def room_notice(round_id: int, room_id: int, member_id: int, user_id: str) -> Effect:
    """Tell a member privately which room they are in (queued once the room is posted)."""
    return Effect(
        key=f"round:{round_id}:member:{member_id}:notice",
        kind=ROOM_NOTICE,
        target=user_target(user_id),
        priority=BULK,
        args={"round_id": round_id, "room_id": room_id, "user_id": user_id},
        private=True,
    )


def room_warning(round_id: int, room_id: int) -> Effect:
    """The warning in a room's thread (dropped at send time if the round has ended)."""
    return _room_effect(ROOM_WARNING, "warning", round_id, room_id)


def room_end(round_id: int, room_id: int) -> Effect:
    """Time's up (or the session's end) in a room's thread."""
    return _room_effect(ROOM_END, "end", round_id, room_id)


def room_reminder(round_id: int, room_id: int) -> Effect:
    """The one reminder in the thread of a room without a report-back."""
    return _room_effect(ROOM_REMINDER, "reminder", round_id, room_id)


def member_changes(
    *,
    change: str,
    round_id: int,
    user_id: str,
    to_room_id: int,
    from_room_id: int | None = None,
    moved_by: str | None = None,
) -> list[Effect]:
    """A late arrival or a move: the person is told, the rooms' threads hear, their messages
    show the new members.

    Args:
        change: unique per late arrival or move, so each is queued at most once.
        round_id: the round.
        user_id: who joined or moved.
        to_room_id: the room they are in now.
        from_room_id: the room they left (a move).
        moved_by: the facilitator who moved them (a move).
    """
    event: dict[str, ArgValue] = {
        "round_id": round_id,
        "user_id": user_id,
        "to_room_id": to_room_id,
    }
    if from_room_id is not None:
        event["from_room_id"] = from_room_id
    prefix = f"round:{round_id}:{change}"
    effects = [
        Effect(
            key=f"{prefix}:told",
            kind=MEMBER_TOLD,
            target=user_target(user_id),
            # A late arrival has just checked in: this answers them.
            priority=REPLY if moved_by is None else BULK,
            args={**event, "moved_by": moved_by},
            private=True,
        )
    ]
    for room_id in (to_room_id, from_room_id):
        if room_id is None:
            continue
        effects.append(
            Effect(
                key=f"{prefix}:note:{room_id}",
                kind=MEMBER_NOTE,
                target=round_target(round_id),
                priority=PUBLIC,
                args={**event, "room_id": room_id},
            )
        )
        effects.append(
            Effect(
                key=f"{prefix}:refresh:{room_id}",
                kind=ROOM_REFRESH,
                target=round_target(round_id),
                priority=PUBLIC,
                args={"round_id": round_id, "room_id": room_id},
            )
        )
    return effects


def report_posts(round_id: int, room_id: int, report_id: int) -> list[Effect]:
    """A new report-back version: in full in the room's thread, then the compact channel post."""
    args = {"round_id": round_id, "room_id": room_id, "report_id": report_id}
    return [
        Effect(
            key=f"round:{round_id}:report:{report_id}:thread",
            kind=REPORT_THREAD,
            target=round_target(round_id),
            priority=PUBLIC,
            args=args,
        ),
        Effect(
            key=f"round:{round_id}:report:{report_id}:channel",
            kind=REPORT_CHANNEL,
            target=round_target(round_id),
            priority=PUBLIC,
            args=args,
        ),
    ]


def quote_withdrawn_posts(
    round_id: int, room_id: int, report_ids: list[int], quote_id: int
) -> list[Effect]:
    """A quote withdrawn: each version's thread post that held it, and the room's compact
    channel post, edited in place (rendered when sent, so without the quote). Once per
    withdrawal: a quote is withdrawn at most once."""
    prefix = f"round:{round_id}:quote:{quote_id}:withdrawn"
    effects = [
        Effect(
            key=f"{prefix}:thread:{report_id}",
            kind=REPORT_THREAD_EDIT,
            target=round_target(round_id),
            priority=PUBLIC,
            args={"round_id": round_id, "room_id": room_id, "report_id": report_id},
        )
        for report_id in report_ids
    ]
    effects.append(
        Effect(
            key=f"{prefix}:channel",
            kind=REPORT_CHANNEL,
            target=round_target(round_id),
            priority=PUBLIC,
            args={"round_id": round_id, "room_id": room_id, "report_id": report_ids[-1]},
        )
    )
    return effects


def room_refresh(round_id: int, room_id: int, *, change: str) -> Effect:
    """A room's message shows its members again after `change` (unique per change: an erased
    member's mention is dropped from a message posted long ago, so it goes in bulk)."""
    return Effect(
        key=f"round:{round_id}:{change}:refresh:{room_id}",
        kind=ROOM_REFRESH,
        target=round_target(round_id),
        priority=BULK,
        args={"round_id": round_id, "room_id": room_id},
    )


def report_thread_edit(round_id: int, room_id: int, report_id: int, *, change: str) -> Effect:
    """A version's thread post shown again after `change` (unique per change: its submitter
    was erased, long after it was posted, so it goes in bulk)."""
    return Effect(
        key=f"round:{round_id}:{change}:report:{report_id}",
        kind=REPORT_THREAD_EDIT,
        target=round_target(round_id),
        priority=BULK,
        args={"round_id": round_id, "room_id": room_id, "report_id": report_id},
    )


def note_edit(round_id: int, note_id: int, *, change: str) -> Effect:
    """A posted "joined"/"left" note shown again from its row after `change` (its person was
    erased; unique per change)."""
    return Effect(
        key=f"round:{round_id}:{change}:note:{note_id}",
        kind=NOTE_EDIT,
        target=round_target(round_id),
        priority=BULK,
        args={"round_id": round_id, "note_id": note_id},
    )


def report_channel_edit(round_id: int, room_id: int, *, change: str) -> Effect:
    """A room's compact channel post shown again after `change` (unique per change: an
    erasure rewrote a text of its report-back, long after it was posted, so it goes in bulk)."""
    return Effect(
        key=f"round:{round_id}:{change}:channel:{room_id}",
        kind=REPORT_CHANNEL,
        target=round_target(round_id),
        priority=BULK,
        args={"round_id": round_id, "room_id": room_id},
    )
