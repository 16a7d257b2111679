"""The `listening-bot` command."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from bot.config import ConfigError, Settings, load_settings

logger = logging.getLogger("listening-bot")

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="listening-bot",
        description="Run live listening sessions on Slack (and Zoom).",
    )
    parser.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("run", help="connect to Slack in Socket Mode (the default way to run)")
    serve = commands.add_parser("serve", help="serve Slack and Zoom over HTTP")
    serve.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="interface (default 0.0.0.0)")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", help="apply database migrations")
    manifest = commands.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument(
        "--url",
        help="public https URL of /slack/events for HTTP mode (omit for Socket Mode)",
    )
    return parser


class _Stop(Exception):
    """Raised by the SIGTERM handler to leave the main loop cleanly."""


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def _upgrade_database(settings: Settings) -> None:
    from storage.db import Database
    from storage.migrate import upgrade

    db = Database(settings.DATABASE_URL)
    try:
        upgrade(db.engine)
    finally:
        db.dispose()


def _run(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app, create_services

    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    _upgrade_database(settings)
    services = create_services(settings)
    app = create_app(services, socket_mode=True)
    services.start_background()
    handler = SocketModeHandler(app, settings.SLACK_APP_TOKEN)
    signal.signal(signal.SIGTERM, _raise_stop)
    logger.info("connecting to Slack in Socket Mode")
    try:
        try:
            handler.connect()
        except SlackApiError as error:
            raise ConfigError(
                "SLACK_APP_TOKEN", f"was not accepted by Slack ({error.response.get('error')})"
            ) from None
        logger.info("listening-bot is running; press Ctrl+C to stop")
        signal.pause()
    except (_Stop, KeyboardInterrupt):
        logger.info("stopping")
    finally:
        handler.close()
        services.stop_background()


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from bot.app import create_app, create_services
    from bot.server import create_web_app

    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    _upgrade_database(settings)
    services = create_services(settings)
    app = create_app(services)
    services.start_background()
    web = create_web_app(app, services)
    logger.info("serving on http://%s:%d (Slack: /slack/events)", host, port)
    try:
        uvicorn.run(web, host=host, port=port, log_level="info", access_log=False)
    finally:
        services.stop_background()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `listening-bot` console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic announces its plugins on every run; only the migrations it applies are news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.command == "manifest":
        from bot.manifest import render_manifest

        sys.stdout.write(render_manifest(args.url))
        return 0
    try:
        settings = load_settings(args.env_file)
        if args.command == "db":
            _upgrade_database(settings)
            print("database is up to date")
        elif args.command == "run":
            _run(settings)
        elif args.command == "serve":
            _serve(settings, args.host, args.port)
    except ConfigError as error:
        print(f"listening-bot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except BoltError as error:
        # Bolt checks the token with auth.test before listening.
        print(
            f"listening-bot: SLACK_BOT_TOKEN was not accepted by Slack ({error}) — copy the Bot "
            "User OAuth Token again from your app's 'OAuth & Permissions' page.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        print(
            f"listening-bot: DATABASE_URL cannot be opened ({reason}) — check the URL, that the "
            "server is running and that the database exists.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    return 0


if __name__ == "__main__":
    sys.exit(main())
