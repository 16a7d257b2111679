"""The outbox effects of rounds: unique keys, and targets that keep related posts in order."""

from __future__ import annotations

from bot.outbox import BULK, PUBLIC, REPLY
from bot.rooms import effects


def test_every_public_post_of_a_round_shares_the_round_as_target() -> None:
    public = [
        effects.room_post(7, 1, response_url="https://hooks.example/r"),
        effects.room_warning(7, 1),
        effects.room_end(7, 1),
        effects.room_reminder(7, 1),
        *effects.report_posts(7, 1, 30),
        *[
            e
            for e in effects.member_changes(
                change="member:5:move:x", round_id=7, user_id="U1", to_room_id=2, from_room_id=1
            )
            if e.kind != effects.MEMBER_TOLD
        ],
    ]
    assert {e.target for e in public} == {"round:7"}
    # one priority, so the sender keeps their queue order
    assert {e.priority for e in public} == {PUBLIC}
    assert not any(e.private for e in public)


def test_keys_name_one_effect_each() -> None:
    keys = [
        effects.room_post(7, 1, response_url=None).key,
        effects.room_post(7, 2, response_url=None).key,
        effects.room_warning(7, 1).key,
        effects.room_warning(7, 2).key,
        effects.room_end(7, 1).key,
        effects.room_reminder(7, 1).key,
        effects.room_notice(7, 1, 40, "U1").key,
        *(e.key for e in effects.report_posts(7, 1, 30)),
        *(e.key for e in effects.report_posts(7, 1, 31)),
    ]
    assert len(set(keys)) == len(keys)
    assert effects.room_warning(7, 1).key == "round:7:room:1:warning"
    # the same effect asked for twice has the same key, so it is queued once
    assert effects.room_end(7, 1) == effects.room_end(7, 1)


def test_private_notices_go_to_their_person_and_expire() -> None:
    notice = effects.room_notice(7, 1, 40, "U1")
    assert (notice.target, notice.priority, notice.private) == ("user:U1", BULK, True)
    [late] = [
        e
        for e in effects.member_changes(
            change="member:5:late", round_id=7, user_id="U2", to_room_id=2
        )
        if e.kind == effects.MEMBER_TOLD
    ]
    assert (late.target, late.priority, late.private) == ("user:U2", REPLY, True)


def test_a_move_tells_the_person_and_both_rooms() -> None:
    moved = effects.member_changes(
        change="member:5:move:x",
        round_id=7,
        user_id="U1",
        to_room_id=2,
        from_room_id=1,
        moved_by="UF",
    )
    assert [(e.kind, e.args.get("room_id")) for e in moved] == [
        (effects.MEMBER_TOLD, None),
        (effects.MEMBER_NOTE, 2),
        (effects.ROOM_REFRESH, 2),
        (effects.MEMBER_NOTE, 1),
        (effects.ROOM_REFRESH, 1),
    ]
    assert moved[0].args["moved_by"] == "UF"
    late = effects.member_changes(change="member:6:late", round_id=7, user_id="U2", to_room_id=2)
    assert [e.kind for e in late] == [
        effects.MEMBER_TOLD,
        effects.MEMBER_NOTE,
        effects.ROOM_REFRESH,
    ]
