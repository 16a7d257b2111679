"""Settings: loading, validation, and the one-line errors users see."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings


def test_defaults_when_nothing_is_set() -> None:
    settings = load_settings(env_file=None)
    assert settings.SLACK_API_URL == "https://slack.com/api/"
    assert settings.DATABASE_URL == "sqlite:///listening-bot.db"
    assert settings.ZOOM_API_URL == "https://api.zoom.us/v2"
    assert settings.ZOOM_OAUTH_URL == "https://zoom.us/oauth/token"
    assert settings.FACILITATORS == ()
    assert settings.zoom_enabled is False


def test_env_file_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "SLACK_BOT_TOKEN=xoxb-from-file\nFACILITATORS=U0AAA, U0BBB ,\nSUMMARY_CHANNEL=C0SUM\n"
        "SLACK_API_URL=http://127.0.0.1:9/api\n"
    )
    monkeypatch.setenv("SUMMARY_CHANNEL", "C0ENV")
    settings = load_settings(str(env))
    assert settings.SLACK_BOT_TOKEN == "xoxb-from-file"
    assert settings.FACILITATORS == ("U0AAA", "U0BBB")
    assert settings.SUMMARY_CHANNEL == "C0ENV"
    assert settings.SLACK_API_URL == "http://127.0.0.1:9/api/"  # slack_sdk needs the slash


def test_blank_values_count_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "  ")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = load_settings(env_file=None)
    assert settings.SLACK_BOT_TOKEN is None
    assert settings.DATABASE_URL == "sqlite:///listening-bot.db"
    with pytest.raises(ConfigError, match=r"^SLACK_BOT_TOKEN is not set — copy .*OAuth"):
        settings.require("SLACK_BOT_TOKEN")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "must start with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-bot", "must start with xapp-"),
        ("DATABASE_URL", "not a url", "is not a database URL"),
        ("DATABASE_URL", "mysql://x@y/z", "must be a sqlite"),
        ("DATABASE_URL", "postgresql+psycopg2://x@y/z", "psycopg"),
        ("DATABASE_URL", "postgres://x@y/z", "must be a sqlite"),
        ("SLACK_API_URL", "slack.com/api", "http(s) URL"),
        ("ZOOM_API_URL", "ftp://zoom", "http(s) URL"),
        ("FACILITATORS", "U0AAA,alice", "member IDs"),
        ("SUMMARY_CHANNEL", "#general", "channel ID"),
        ("REPLICA_NAME", "bot 1", "letters, digits"),
        ("REPLICA_NAME", "x" * 65, "letters, digits"),
        ("REPLICA_NAME", "%(message)s", "letters, digits"),
        ("REPORT_MIN_GROUP", "0", "greater than or equal to 1"),
        ("REPORT_MIN_GROUP", "-5", "greater than or equal to 1"),
        ("REPORT_MIN_GROUP", "five", "valid integer"),
        ("REPORT_MIN_GROUP", "2.5", "valid integer"),
        ("DATA_RETENTION_DAYS", "0", "greater than or equal to 1"),
        ("DATA_RETENTION_DAYS", "a year", "valid integer"),
        ("PRIVACY_NOTICE_URL", "example.org/privacy", "http(s) URL"),
        ("PRIVACY_NOTICE_URL", "https://example.org/" + "p" * 481, "at most 500 characters"),
        ("PRIVACY_NOTICE_TEXT", "x" * 1001, "at most 1000"),
    ],
)
def test_malformed_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings(env_file=None)
    text = str(raised.value)
    assert text.startswith(f"{variable} ")
    assert message in text
    assert "\n" not in text


def test_zoom_is_enabled_only_with_all_three_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOOM_ACCOUNT_ID", "acc")
    monkeypatch.setenv("ZOOM_CLIENT_ID", "cid")
    assert load_settings(env_file=None).zoom_enabled is False
    monkeypatch.setenv("ZOOM_CLIENT_SECRET", "secret")
    assert load_settings(env_file=None).zoom_enabled is True


def test_the_replica_is_named_after_the_host_and_process_by_default() -> None:
    import os

    name = load_settings(env_file=None).REPLICA_NAME
    assert name.endswith(f"-{os.getpid()}")
    assert 1 <= len(name) <= 64
