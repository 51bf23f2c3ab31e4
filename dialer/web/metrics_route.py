"""`GET /metrics` in front of the page or the receiver that `dialer serve` serves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from campaigns.report.exposition import StoreCollector, exposition_registry, render
from dialer.clock import Clock
from dialer.metrics import Metrics

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from campaigns.backends import Services


def with_metrics_route(
    app: Starlette, metrics: Metrics, services: Services, clock: Clock
) -> Starlette:
    """`app` with `GET /metrics` in front (what `dialer serve` serves)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    registry = exposition_registry(
        metrics.registry, [StoreCollector(lambda: services.store, clock)]
    )

    def scrape(request: Request) -> Response:  # sync: Starlette runs it in a thread
        body, content_type = render(registry)
        return Response(body, media_type=content_type)

    return Starlette(routes=[Route("/metrics", scrape, methods=["GET"]), Mount("", app=app)])
