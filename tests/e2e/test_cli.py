"""The `listening-bot` command as users run it: real processes, real ports, fake Slack."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, inspect

from bot.standin import FakeSlack, SlackSender, payloads
from tests.e2e.conftest import BOT_TOKEN, CHANNEL, FACILITATOR, SIGNING_SECRET
from tests.harness.fake_socket_mode import FakeSocketMode
from tests.harness.processes import BotProcess, _base_env, _free_port
from tests.harness.slack_limits import RATE_LIMITS

APP_TOKEN = "xapp-1-A0001-1234-abcdef"


def _cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**_base_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_manifest_prints_valid_yaml() -> None:
    result = _cli("manifest")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["slash_commands"][0]["command"] == "/session"


@pytest.mark.parametrize(
    ("command", "env", "variable"),
    [
        (["run"], {}, "SLACK_BOT_TOKEN"),
        (["run"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN"),
        (["serve", "--port", "1"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
        (["run"], {"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        (["db", "upgrade"], {"DATABASE_URL": "mysql://nope"}, "DATABASE_URL"),
        (["db", "upgrade"], {"FACILITATORS": "alice"}, "FACILITATORS"),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(
    tmp_path: Path, command: list[str], env: dict[str, str], variable: str
) -> None:
    result = _cli("--env-file", str(tmp_path / "missing.env"), *command, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"listening-bot: {variable} ")
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = _cli(
        "db",
        "upgrade",
        env={"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("listening-bot: DATABASE_URL cannot be opened")
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    result = _cli("db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"alembic_version", "listening_session", "participant", "delivery"} <= tables


def test_env_file_is_used(tmp_path: Path) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'from-env-file.db'}\n")
    result = _cli("--env-file", str(env_file), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env-file.db").exists()


def test_a_rejected_bot_token_is_explained(tmp_path: Path) -> None:
    with FakeSlack(valid_tokens={"xoxb-the-right-one"}, rate_limits=RATE_LIMITS) as slack:
        result = _cli(
            "run",
            env={
                "SLACK_BOT_TOKEN": "xoxb-wrong",
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            },
        )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN was not accepted by Slack" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_answers_signed_requests_over_http(tmp_path: Path, slack: FakeSlack) -> None:
    port = _free_port()
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    bot = BotProcess(
        ["serve", "--host", "127.0.0.1", "--port", str(port)],
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": db_url,
            "REPLICA_NAME": "bot-7",
        },
        tmp_path / "serve.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        bot.wait_until_serving(base)
        sender = SlackSender(base, SIGNING_SECRET)
        command = payloads.slash_command(
            "/session",
            'start "Served session" --area Leeds',
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=slack.response_url("serve"),
        )
        assert sender.command(command, signature="wrong").status_code == 401
        response = sender.command(command)
        assert response.status_code == 200, bot.output()
        post = slack.wait_for("chat.postMessage", timeout=10)[0]
        assert post.args["channel"] == CHANNEL
        assert "Served session" in post.args["text"]
        assert "started by" not in response.text
    finally:
        # uvicorn shuts down gracefully, then re-raises SIGTERM as services conventionally do.
        assert bot.stop() in (0, -signal.SIGTERM), bot.output()
    assert "Shutting down" in bot.output()
    assert " INFO [bot-7] listening-bot: stopping" in bot.output()  # log lines name the replica
    tables = set(inspect(create_engine(db_url)).get_table_names())
    assert "listening_session" in tables  # serve upgraded the database on start


def test_run_connects_over_socket_mode_and_handles_commands(
    tmp_path: Path, slack: FakeSlack
) -> None:
    with FakeSocketMode() as socket_mode:
        slack.socket_mode_url = socket_mode.url
        bot = BotProcess(
            ["run"],
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            },
            tmp_path / "run.log",
        )
        try:
            try:
                socket_mode.wait_connected(timeout=30)
            except AssertionError:
                raise AssertionError(bot.output()) from None
            opened = slack.calls_to("apps.connections.open")
            assert opened
            assert opened[0].token == APP_TOKEN

            help_ack = socket_mode.send_envelope(
                "slash_commands",
                payloads.slash_command("/session", "help", user_id=FACILITATOR, channel_id=CHANNEL),
                timeout=10,
            )
            assert "Start* (facilitators)" in str(help_ack.get("payload"))

            command = payloads.slash_command(
                "/session",
                'start "Socket session"',
                user_id=FACILITATOR,
                channel_id=CHANNEL,
                response_url=slack.response_url("socket"),
            )
            socket_mode.send_envelope("slash_commands", command, timeout=10)
            post = slack.wait_for("chat.postMessage", timeout=10)[0]
            assert "Socket session" in post.args["text"]
            # A redelivered envelope (Slack retries unacknowledged ones) changes nothing.
            socket_mode.send_envelope("slash_commands", command, retry_attempt=1, timeout=10)
            second = socket_mode.send_envelope(
                "slash_commands",
                payloads.slash_command(
                    "/session", "status", user_id=FACILITATOR, channel_id=CHANNEL
                ),
                timeout=10,
            )
            assert "Socket session" in str(second.get("payload"))
            assert len(slack.calls_to("chat.postMessage")) == 1
        finally:
            code = bot.stop()
        assert code == 0, bot.output()


def test_no_slack_token_says_how_to_get_one_and_mentions_the_rehearsal(tmp_path: Path) -> None:
    result = _cli("--env-file", str(tmp_path / "missing.env"), "run", env={})
    assert result.returncode == 2
    assert "api.slack.com/apps" in result.stderr
    assert "./scripts/rehearse" in result.stderr


def test_a_second_bot_on_one_sqlite_file_stops_at_start(tmp_path: Path, slack: FakeSlack) -> None:
    port = _free_port()
    db_file = tmp_path / "bot.db"
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{db_file}",
    }
    bot = BotProcess(
        ["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path / "first.log"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        bot.wait_until_serving(base)
        for second in (["serve", "--host", "127.0.0.1", "--port", str(_free_port())], ["run"]):
            result = _cli(*second, env=env)
            assert result.returncode == 2, result.stderr
            assert result.stderr.strip().splitlines() == [
                f"listening-bot: another listening-bot is already running on {db_file} "
                f"(pid {bot.process.pid}); one process per SQLite file — use PostgreSQL "
                "(DATABASE_URL=postgresql://…) to run several replicas"
            ]
        assert not slack.calls_to("apps.connections.open")  # the second `run` never connected

        command = payloads.slash_command(
            "/session",
            'start "Locked session"',
            user_id=FACILITATOR,
            channel_id=CHANNEL,
            response_url=slack.response_url("locked"),
        )
        assert SlackSender(base, SIGNING_SECRET).command(command).status_code == 200
        slack.wait_for("chat.postMessage", timeout=10)
        with create_engine(env["DATABASE_URL"]).connect() as connection:
            session_id = connection.exec_driver_sql("SELECT id FROM listening_session").scalar()
        # The commands that read or upgrade the database work alongside the running bot.
        export = ["export", "--session", str(session_id), "--format", "json"]
        for command_line in (
            [*export, "--out", str(tmp_path / "session.json")],
            ["report", "--out", str(tmp_path / "report.md")],
            ["db", "upgrade"],
        ):
            done = _cli(*command_line, env=env)
            assert done.returncode == 0, (command_line, done.stderr)
        assert bot.process.poll() is None, bot.output()
    finally:
        assert bot.stop() in (0, -signal.SIGTERM), bot.output()
