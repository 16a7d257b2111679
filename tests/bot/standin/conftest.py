"""Fixtures for the stand-in's tests: a running FakeSlack and a WebClient talking to it."""

from tests.harness.fixtures import fake_slack, slack_web_client

__all__ = ["fake_slack", "slack_web_client"]
