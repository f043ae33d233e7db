"""HTTP API of the live KPIs: ``GET /kpis?from=&to=&location_id=`` (docs/kpis.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from orderflow import wiring
from orderflow.platform.http_api import http_function
from orderflow.shared.settings import get_settings

settings = get_settings()
app, logger, tracer, metrics, handler = http_function("kpis_api", settings.max_body_bytes)
service = wiring.kpi_service(settings)


@app.get("/kpis")
def get_kpis(
    first: Annotated[date | None, Query(alias="from", description="first UTC day (default: 6 days before to)")] = None,
    last: Annotated[date | None, Query(alias="to", description="last UTC day, included (default: today)")] = None,
    location_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")] = None,
) -> dict:
    """Fill rate, on-time shipment, stock-out rate, backorders, supplier on-time and fill rate of the days."""
    return service.kpis(first, last, location_id)
