"""A local stand-in for Zoom: its REST API and token endpoint over HTTP, and Zoom's webhooks.

- `FakeZoom` (fake.py, routes.py) answers the endpoints the bot uses on 127.0.0.1, with Zoom's
  shapes, errors and plan limits; tests queue faults and slow answers.
- `ZoomWebhookSender` (webhooks.py) signs and posts Zoom's meeting and participant events.

Like the Slack stand-in, it knows nothing of the bot (an import-linter contract holds that).
"""

from bot.standin.zoom.fake import FakeZoom
from bot.standin.zoom.state import ZoomCall
from bot.standin.zoom.webhooks import ZoomWebhookSender, signed_headers, webhook_body

__all__ = ["FakeZoom", "ZoomCall", "ZoomWebhookSender", "signed_headers", "webhook_body"]
