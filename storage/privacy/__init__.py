"""A person's data: finding it, exporting it, erasing it; and what purges keep. No Slack types.

`people` finds a person's ids and reads everything stored about them, `erasure` erases them
and scrubs the database's history, `purges` holds the breakdowns a purge keeps, `tables` the
tables and the tokens erased ids become. Importing this package registers its tables.
"""

from storage.privacy.erased import KINDS, Erased
from storage.privacy.erasure import erase, scrub_history
from storage.privacy.people import Person, find_person, holds_anything, person_record
from storage.privacy.purges import (
    OpenPoll,
    StoredBreakdown,
    counted_elsewhere,
    ids_elsewhere,
    is_purged,
    mark_purged,
    not_ended,
    open_polls,
    people_of_sessions,
    purged_count,
    save_breakdowns,
    sessions_to_purge,
    stored_breakdowns,
)
from storage.privacy.tables import (
    ELSEWHERE,
    ERASED_PREFIX,
    GROUP,
    PLACE,
    ROLE,
    SMALL_GROUPS,
    PollBreakdown,
    SessionPurge,
    erased_token,
    is_erased,
)

__all__ = [
    "ELSEWHERE",
    "ERASED_PREFIX",
    "GROUP",
    "KINDS",
    "PLACE",
    "ROLE",
    "SMALL_GROUPS",
    "Erased",
    "OpenPoll",
    "Person",
    "PollBreakdown",
    "SessionPurge",
    "StoredBreakdown",
    "counted_elsewhere",
    "erase",
    "erased_token",
    "find_person",
    "holds_anything",
    "ids_elsewhere",
    "is_erased",
    "is_purged",
    "mark_purged",
    "not_ended",
    "open_polls",
    "people_of_sessions",
    "person_record",
    "purged_count",
    "save_breakdowns",
    "scrub_history",
    "sessions_to_purge",
    "stored_breakdowns",
]
