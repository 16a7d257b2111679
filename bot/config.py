"""One typed settings object, loaded once from the environment and `.env`."""

from __future__ import annotations

import os
import re
import socket
from functools import cached_property
from typing import Annotated, Any

from dotenv import load_dotenv
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# Where each variable comes from, shown when it is missing or malformed.
WHERE_TO_GET: dict[str, str] = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from your Slack app's "
    "'OAuth & Permissions' page at https://api.slack.com/apps (README: Create the Slack app); "
    "to see the bot work without Slack first, run ./scripts/rehearse",
    "SLACK_APP_TOKEN": "create an app-level token (xapp-…) with the connections:write scope "
    "on your Slack app's 'Basic Information' page",
    "SLACK_SIGNING_SECRET": "copy the Signing Secret from your Slack app's 'Basic Information' "
    "page",
    "SLACK_API_URL": "leave it unset for https://slack.com/api/",
    "SLACK_RATE_SCALE": "leave it unset (1: Slack's real rate limits); tests set 20",
    "DATABASE_URL": "use e.g. sqlite:///listening-bot.db or "
    "postgresql+psycopg://user:password@host:5432/dbname",
    "SUMMARY_CHANNEL": "use a channel ID such as C0123456789 (channel details → About, at the "
    "bottom)",
    "FACILITATORS": "list Slack member IDs such as U0123456789, comma-separated "
    "(profile → ⋮ → Copy member ID)",
    "ZOOM_ACCOUNT_ID": "copy it from your Zoom Server-to-Server OAuth app's App Credentials page",
    "ZOOM_CLIENT_ID": "copy it from your Zoom Server-to-Server OAuth app's App Credentials page",
    "ZOOM_CLIENT_SECRET": "copy it from your Zoom Server-to-Server OAuth app's App Credentials "
    "page",
    "ZOOM_API_URL": "leave it unset for https://api.zoom.us/v2",
    "ZOOM_OAUTH_URL": "leave it unset for https://zoom.us/oauth/token",
    "ZOOM_PLAN": "set it to your Zoom account's plan (Admin → Account Management → "
    "Account Profile); Education and Enterprise count as business",
    "ZOOM_TIMEOUT_SECONDS": "leave it unset for 10 (seconds the bot waits for one Zoom answer)",
    "ZOOM_WEBHOOK_SECRET_TOKEN": "copy the Secret Token from your Zoom app's Feature → Event "
    "Subscriptions page",
    "ZOOM_ROLE_QUESTION": "name the Zoom registration question whose answer is a registrant's "
    "role (default Role)",
    "ZOOM_PLACE_QUESTION": "name the Zoom registration question whose answer is a registrant's "
    "place (default Place)",
    "ZOOM_GROUP_QUESTION": "name the Zoom registration question whose answer is a registrant's "
    "group (default Group)",
    "ZOOM_METRICS_SECONDS": "leave it unset for 30 (seconds between live participant checks in "
    "Socket Mode, 10 to 600)",
    "REPLICA_NAME": "use 1 to 64 letters, digits, '.', '_' or '-' (e.g. bot-1), or leave it "
    "unset for <hostname>-<pid>",
    "REPORT_MIN_GROUP": "use a whole number of people, 1 or more (default 5): smaller groups "
    "read 'fewer than N' in summaries, exports and the tour report",
    "DATA_RETENTION_DAYS": "use a whole number of days, 1 or more, or leave it unset to keep "
    "people's identities until you purge them",
    "PRIVACY_NOTICE_URL": "use the https:// address of your privacy notice",
    "PRIVACY_NOTICE_TEXT": "write at most 1,000 characters, or use PRIVACY_NOTICE_URL",
    "ZOOM_POLLS_DEFAULT": "use true or false (false: only polls launched with --zoom also go to "
    "the Zoom meeting)",
}

ZOOM_PLANS = ("free", "pro", "business")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_REPLICA_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def default_replica_name() -> str:
    """`<hostname>-<pid>`, made to fit REPLICA_NAME's rule (a host name may have other
    characters, or be long)."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()) or "host"
    pid = str(os.getpid())
    return f"{host[: 63 - len(pid)]}-{pid}"


class ConfigError(Exception):
    """A missing or malformed setting; `str()` is the one line shown to the user."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        hint = WHERE_TO_GET.get(variable, "")
        super().__init__(f"{variable} {problem}" + (f" — {hint}." if hint else "."))


PRIVACY_URL_MAX = 500


def _check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("must be an http(s) URL")
    return value


class Settings(BaseSettings):
    """Every setting of the bot; secrets have no defaults."""

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    SLACK_BOT_TOKEN: str | None = None
    SLACK_APP_TOKEN: str | None = None
    SLACK_SIGNING_SECRET: str | None = None
    SLACK_API_URL: str = "https://slack.com/api/"
    # How much faster than Slack's documented rates the bot may call it: 1 in production; the
    # test suite's fake Slack runs its limits 20 times faster, and the bot plans to match.
    SLACK_RATE_SCALE: float = Field(default=1.0, gt=0, le=1000)
    DATABASE_URL: str = "sqlite:///listening-bot.db"
    SUMMARY_CHANNEL: str | None = None
    FACILITATORS: Annotated[tuple[str, ...], NoDecode] = Field(default=())
    ZOOM_ACCOUNT_ID: str | None = None
    ZOOM_CLIENT_ID: str | None = None
    ZOOM_CLIENT_SECRET: str | None = None
    ZOOM_API_URL: str = "https://api.zoom.us/v2"
    ZOOM_OAUTH_URL: str = "https://zoom.us/oauth/token"
    ZOOM_WEBHOOK_SECRET_TOKEN: str | None = None
    # Every poll of a session bound to a Zoom meeting also goes to the meeting unless launched
    # with --slack-only; when false, only polls launched with --zoom do.
    ZOOM_POLLS_DEFAULT: bool = False
    # The account's plan sets Zoom's per-second rate limits (and which endpoints answer at all).
    ZOOM_PLAN: str = "pro"
    ZOOM_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, le=120)
    # Registration questions whose answers are a registrant's check-in (compared case-blind).
    ZOOM_ROLE_QUESTION: str = "Role"
    ZOOM_PLACE_QUESTION: str = "Place"
    ZOOM_GROUP_QUESTION: str = "Group"
    # Socket Mode has no webhooks: live participants are polled this often (a Heavy API call).
    ZOOM_METRICS_SECONDS: int = Field(default=30, ge=10, le=600)
    # Names this process in log lines and /healthz, when several replicas share one database.
    REPLICA_NAME: str = Field(default_factory=default_replica_name)
    # Data and privacy: the smallest group, role or place a breakdown shows; how long people's
    # identities are kept (None: keep); the organiser's privacy notice, shown at check-in.
    REPORT_MIN_GROUP: int = Field(default=5, ge=1, le=1000)
    DATA_RETENTION_DAYS: int | None = Field(default=None, ge=1, le=36500)
    PRIVACY_NOTICE_URL: str | None = None
    PRIVACY_NOTICE_TEXT: str | None = Field(default=None, max_length=1000)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        # `FOO=` in a .env file means "not set", not "set to the empty string".
        if isinstance(value, str) and not value.strip():
            assert info.field_name is not None
            return cls.model_fields[info.field_name].get_default(call_default_factory=True)
        return value.strip() if isinstance(value, str) else value

    @field_validator("SLACK_BOT_TOKEN")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("must start with xoxb- (a bot token, not a user or app token)")
        return value

    @field_validator("SLACK_APP_TOKEN")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("must start with xapp- (an app-level token)")
        return value

    @field_validator("SLACK_API_URL")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        _check_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("ZOOM_API_URL", "ZOOM_OAUTH_URL")
    @classmethod
    def _zoom_url(cls, value: str) -> str:
        return _check_url(value).rstrip("/")

    @field_validator("ZOOM_PLAN")
    @classmethod
    def _zoom_plan(cls, value: str) -> str:
        plan = value.lower()
        if plan not in ZOOM_PLANS:
            raise ValueError(f"must be free, pro or business, not {value!r}")
        return plan

    @field_validator("DATABASE_URL")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("is not a database URL") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if url.get_backend_name() == "postgresql" and url.drivername not in (
            "postgresql",
            "postgresql+psycopg",
        ):
            # psycopg (3) is the driver we install; psycopg2 URLs would fail later and obscurely.
            raise ValueError("must use the psycopg driver: postgresql+psycopg://…")
        return value

    @field_validator("REPLICA_NAME")
    @classmethod
    def _replica_name(cls, value: str) -> str:
        if not _REPLICA_NAME.match(value):
            raise ValueError(f"must be 1 to 64 letters, digits, '.', '_' or '-', not {value!r}")
        return value

    @field_validator("PRIVACY_NOTICE_URL")
    @classmethod
    def _privacy_url(cls, value: str | None) -> str | None:
        if value is not None and len(value) > PRIVACY_URL_MAX:
            # With the line and the longest text, it must fit Slack's 3,000 characters.
            raise ValueError(f"must be at most {PRIVACY_URL_MAX} characters, not {len(value)}")
        return None if value is None else _check_url(value)

    @field_validator("SUMMARY_CHANNEL")
    @classmethod
    def _summary_channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value):
            raise ValueError(f"must be a channel ID like C0123456789, not {value!r}")
        return value

    @field_validator("FACILITATORS", mode="before")
    @classmethod
    def _facilitators(cls, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value.split(",") if isinstance(value, str) else list(value)
        ids = tuple(item.strip() for item in items if item.strip())
        for user_id in ids:
            if not _USER_ID.match(user_id):
                raise ValueError(f"must be Slack member IDs like U0123456789, not {user_id!r}")
        return ids

    @cached_property
    def zoom_enabled(self) -> bool:
        """Whether all three Zoom Server-to-Server OAuth credentials are set."""
        return bool(self.ZOOM_ACCOUNT_ID and self.ZOOM_CLIENT_ID and self.ZOOM_CLIENT_SECRET)

    def require(self, *names: str) -> None:
        """Raise ConfigError for the first of `names` that is not set."""
        for name in names:
            if not getattr(self, name):
                raise ConfigError(name, "is not set")


def load_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Load settings once from `.env` (if present) and the environment.

    Raises:
        ConfigError: naming the first malformed variable.
    """
    if env_file:
        # The real environment wins over .env, as with every twelve-factor tool.
        load_dotenv(env_file, override=False)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        variable = str(first["loc"][0]) if first["loc"] else "configuration"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(variable, message) from None


class _GivenOnly(Settings):
    """Settings taken only from the values given: no environment, no .env file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def isolated_settings(**values: Any) -> Settings:
    """Settings from `values` alone, whatever the environment or .env say (a rehearsal must
    never reach the real database, Slack or Zoom)."""
    return _GivenOnly(**values)
