"""HTTP API of alerts: ``GET /alerts`` lists what was told, which ``orderflow alerts --follow`` polls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from orderflow import wiring
from orderflow.platform.http_api import http_function
from orderflow.shared.settings import get_settings

settings = get_settings()
app, logger, tracer, metrics, handler = http_function("alerts_api", settings.max_body_bytes)
service = wiring.alert_service(settings)


@app.get("/alerts")
def list_alerts(since: Annotated[datetime | None, Query(description="ISO 8601; default: the last day")] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    """The alerts told after ``since``, oldest first (at most the last 7 days)."""
    moment = None
    if since is not None:
        moment = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
        moment = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    alerts = service.recent(moment, limit)
    return {"alerts": [alert.model_dump(mode="json") for alert in alerts],
            "next_since": alerts[-1].at if alerts else moment}
