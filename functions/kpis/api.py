"""HTTP API of the live KPIs: ``GET /kpis?from=&to=&location_id=`` (docs/kpis.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from orderflow import wiring
from orderflow.platform.http_api import HttpApiResolver, install_error_handlers, refuse_unreadable
from orderflow.platform.lambda_support import observability
from orderflow.shared.settings import get_settings

settings = get_settings()
logger, tracer, metrics = observability("kpis_api")
service = wiring.kpi_service(settings)
app = HttpApiResolver(enable_validation=True)
install_error_handlers(app)


@app.get("/kpis")
def kpis(first: Annotated[date | None, Query(alias="from", description="first UTC day (default: 6 days before to)")]
         = None,
         last: Annotated[date | None, Query(alias="to", description="last UTC day, included (default: today)")] = None,
         location_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")] = None
         ) -> dict:
    """Fill rate, on-time shipment, stock-out rate, backorders, supplier on-time and fill rate of the days."""
    return service.kpis(first, last, location_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: Any) -> dict:
    return refuse_unreadable(event, settings.max_body_bytes) or app.resolve(event, context)
