"""Block Kit views, built with slack_sdk.models so Slack's limits are checked where made."""
