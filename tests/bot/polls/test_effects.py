"""Poll effects without Slack: keys, kinds and targets, as the outbox and the migration use them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.outbox import LIVE, PUBLIC, REPLY
from bot.polls.effects import (
    POLL_FINAL,
    POLL_LIVE,
    POLL_POST,
    POLL_VOTED,
    POLL_VOTED_ANONYMOUS,
    chosen_indexes,
    poll_final,
    poll_live,
    poll_post,
    vote_confirmation,
)


def test_the_final_results_are_the_rows_migration_0005_writes() -> None:
    final = poll_final(12)
    # storage/migrations/versions/0005_outbox.py turns unannounced polls into exactly this.
    assert (final.key, final.kind, final.target, final.priority, dict(final.args)) == (
        "poll:12:final",
        "poll.final",
        "poll:12",
        PUBLIC,
        {"poll_id": 12},
    )
    assert POLL_FINAL == "poll.final"


def test_everything_on_one_poll_message_shares_its_target() -> None:
    post = poll_post(12, launched_by="U1", response_url="https://hooks.slack.test/r")
    live = poll_live(12)
    assert {post.target, live.target, poll_final(12).target} == {"poll:12"}
    assert (post.kind, post.key, post.args["user_id"]) == (POLL_POST, "poll:12:post", "U1")
    assert post.response_url == "https://hooks.slack.test/r"
    assert (live.kind, live.priority) == (POLL_LIVE, LIVE)
    assert poll_live(12).key != live.key  # every tally is its own effect


def test_a_persons_confirmations_share_a_target_and_are_private() -> None:
    named = vote_confirmation(poll_id=3, user_id="U9", delivery_key="block_actions:1.2")
    anonymous = vote_confirmation(
        poll_id=4, user_id="U9", delivery_key="block_actions:3.4", anonymous_choice=(0, 2)
    )
    assert named.target == anonymous.target == "user:U9"
    assert named.private
    assert anonymous.private
    assert named.priority == anonymous.priority == REPLY
    assert named.key == "vote:block_actions:1.2"  # a redelivery has the same key
    assert (named.kind, anonymous.kind) == (POLL_VOTED, POLL_VOTED_ANONYMOUS)
    assert "chosen" not in named.args  # a named choice is read from the database when sent
    assert chosen_indexes(str(anonymous.args["chosen"])) == (0, 2)


@given(st.lists(st.integers(0, 19), unique=True, min_size=1))
def test_anonymous_choices_round_trip(indexes: list[int]) -> None:
    effect = vote_confirmation(
        poll_id=1, user_id="U1", delivery_key=None, anonymous_choice=sorted(indexes)
    )
    assert chosen_indexes(str(effect.args["chosen"])) == tuple(sorted(indexes))
