"""Zoom: the API client over zoomus (token, retries, budget), webhooks, and what the bot does
with a session's meeting (presence, rooms, polls)."""
