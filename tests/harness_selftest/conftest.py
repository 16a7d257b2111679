"""Fixtures for the harness self-tests."""

from tests.harness.fixtures import fake_slack, fake_socket_mode, slack_web_client

__all__ = ["fake_slack", "fake_socket_mode", "slack_web_client"]
