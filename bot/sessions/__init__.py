"""Sessions: starting, checking in, status and ending. No Slack types here.

`requests` reads what `/session` and the check-in form accept, `results` is what the rules hand
back, `service` holds the rules, `effects` is what a session owes Slack (outbox rows), `ending`
and `check_in` run what follows an end or a check-in, `one_click` is what a click on the session
message changes, `steps` runs follow-up steps with each failure isolated.
"""

from bot.sessions.check_in import CheckingIn, CheckInHook
from bot.sessions.effects import (
    CHECK_IN_NOTED,
    CHECKED_IN,
    SESSION_CLOSE,
    SESSION_ENDED,
    SESSION_ENDED_EDIT,
    SESSION_POST,
    SESSION_REFRESH,
    session_target,
)
from bot.sessions.ending import EndHook, SessionEnding
from bot.sessions.requests import (
    END_SPEC,
    ROLE_MAX,
    SESSION_EXAMPLE,
    SESSION_USAGE,
    START_SPEC,
    STATUS_SPEC,
    SUBCOMMANDS,
    CheckInAnswers,
    CheckInChoice,
    EndRequest,
    PickPlace,
    PickRole,
    SessionCommand,
    SessionHelp,
    StartRequest,
    StatusRequest,
    ToggleConsent,
    clean_answer,
    parse_session_command,
    parse_start,
    parse_start_text,
)
from bot.sessions.results import (
    NO_SESSION,
    CheckedIn,
    CheckInChoices,
    CheckInForm,
    Noted,
    SessionStatus,
    SessionView,
    Unchanged,
    not_facilitator,
)
from bot.sessions.service import (
    DEFAULT_ROLES,
    DELIVERY_MEMORY,
    OFFERED_MAX,
    EndReport,
    SessionService,
)
from bot.sessions.steps import run_each

__all__ = [
    "CHECKED_IN",
    "CHECK_IN_NOTED",
    "DEFAULT_ROLES",
    "DELIVERY_MEMORY",
    "END_SPEC",
    "NO_SESSION",
    "OFFERED_MAX",
    "ROLE_MAX",
    "SESSION_CLOSE",
    "SESSION_ENDED",
    "SESSION_ENDED_EDIT",
    "SESSION_EXAMPLE",
    "SESSION_POST",
    "SESSION_REFRESH",
    "SESSION_USAGE",
    "START_SPEC",
    "STATUS_SPEC",
    "SUBCOMMANDS",
    "CheckInAnswers",
    "CheckInChoice",
    "CheckInChoices",
    "CheckInForm",
    "CheckInHook",
    "CheckedIn",
    "CheckingIn",
    "EndHook",
    "EndReport",
    "EndRequest",
    "Noted",
    "PickPlace",
    "PickRole",
    "SessionCommand",
    "SessionEnding",
    "SessionHelp",
    "SessionService",
    "SessionStatus",
    "SessionView",
    "StartRequest",
    "StatusRequest",
    "ToggleConsent",
    "Unchanged",
    "clean_answer",
    "not_facilitator",
    "parse_session_command",
    "parse_start",
    "parse_start_text",
    "run_each",
    "session_target",
]
