"""How a listener reaches the services: Bolt's request context carries them."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App, BoltContext, BoltResponse

from bot.services import Services

SERVICES = "services"


def services_of(context: BoltContext) -> Services:
    """The services of the running bot, put on every request's context by `provide`."""
    services = context.get(SERVICES)
    if not isinstance(services, Services):
        raise RuntimeError("no services on the request context: register handlers.context first")
    return services


def provide(app: App, services: Services) -> None:
    """Put the services on every request's context, before any other middleware runs."""

    def provide_services(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context[SERVICES] = services
        return next()

    app.use(provide_services)
