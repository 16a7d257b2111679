"""Poll tables and their repository functions. No Slack types here.

Who voted and what was chosen are kept apart. `poll_voter` says who took part in a poll (one row
per person, to stop double voting). For named polls `poll_vote` holds each person's choices. For
anonymous polls nothing per person is stored about the choice at all: each option's
`anonymous_count` is incremented in place, so there is no ballot row whose id, time or position
could be matched to a voter.

`lifecycle` holds the tables and a poll's launch, close and announcement; `voting` the vote
path and the tally. Importing this package registers all of their tables on the metadata.
"""

from storage.polls.lifecycle import (
    CLOSED_BY_COMMAND,
    CLOSED_BY_DEADLINE,
    CLOSED_BY_SESSION_END,
    KEY_MAX,
    MAX_OPTIONS,
    OPTION_MAX,
    QUESTION_MAX,
    Poll,
    PollOption,
    PollVote,
    PollVoter,
    close_poll,
    create_poll,
    delete_poll,
    forget_anonymous_history,
    get_poll,
    mark_announced,
    newest_open_poll,
    open_polls,
    overdue_polls,
    poll_options,
    set_poll_message,
    unannounced_polls,
)
from storage.polls.voting import (
    Tally,
    VoteTarget,
    add_participant,
    cast_anonymous,
    checked_in_of_many,
    choices_of,
    choices_of_many,
    choose,
    claim_delivery,
    has_voted,
    tally,
    toggle,
    vote_target,
)

__all__ = [
    "CLOSED_BY_COMMAND",
    "CLOSED_BY_DEADLINE",
    "CLOSED_BY_SESSION_END",
    "KEY_MAX",
    "MAX_OPTIONS",
    "OPTION_MAX",
    "QUESTION_MAX",
    "Poll",
    "PollOption",
    "PollVote",
    "PollVoter",
    "Tally",
    "VoteTarget",
    "add_participant",
    "cast_anonymous",
    "checked_in_of_many",
    "choices_of",
    "choices_of_many",
    "choose",
    "claim_delivery",
    "close_poll",
    "create_poll",
    "delete_poll",
    "forget_anonymous_history",
    "get_poll",
    "has_voted",
    "mark_announced",
    "newest_open_poll",
    "open_polls",
    "overdue_polls",
    "poll_options",
    "set_poll_message",
    "tally",
    "toggle",
    "unannounced_polls",
    "vote_target",
]
