"""Slack-facing adapters: the Web API client, the outbox sender and what it posts per feature."""
