"""HTTP API of the buying side: suppliers, purchase orders, replenishment runs, demand history.

Thin, like the intake: Powertools validates requests against the pydantic models,
``PurchasingService`` and ``ReplenishmentService`` do the work, errors leave as
``{"error": {code, message, details}}``. No numpy here: this function has no forecasting layer
(the services import ``orderflow.forecasting`` only where a run decides).

The request guards and the error body are the intake's (``orderflow.http_api``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from pydantic import Field

from orderflow import wiring
from orderflow.platform.http_api import IssuedId, PathId, caller_of, http_function
from orderflow.platform.idempotency import idempotency
from orderflow.platform.lambda_support import count
from orderflow.purchasing.domain import ManualLine, PurchaseOrderStatus, SupplierIn, manual_purchase_order_id
from orderflow.purchasing.requests import PurchaseOrderCancelIn, PurchaseOrderChangeIn, PurchaseOrderIn
from orderflow.replenishment.runs import RunIn
from orderflow.replenishment.simulation.models import SimulationIn
from orderflow.shared.settings import get_settings
from orderflow.shared.types import Strict

MAX_HISTORY_ROWS = 500

settings = get_settings()
app, logger, tracer, metrics, handler = http_function("purchasing_api", settings.max_body_bytes)
purchasing = wiring.purchasing_service(settings)
replenishment = wiring.replenishment_service(settings)
simulations = wiring.simulations_service(settings)
idempotent = idempotency(app, settings)
# The OpenAPI document says what the key does (scripts/openapi.py), for every route that takes one.
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


class HistoryImportIn(Strict):
    """``POST /demand/history``. Rows are checked one by one: a bad row is skipped and named, the
    others are imported."""

    rows: list[Any] = Field(min_length=1, max_length=MAX_HISTORY_ROWS,
                            description='[{"sku", "day": "YYYY-MM-DD", "quantity": units shipped}]')


# ------------------------------------------------------------------ suppliers
@app.put("/suppliers/<supplier_id>")
def put_supplier(supplier_id: PathId, supplier: SupplierIn) -> dict:
    """Register or update a supplier; creates its purchase-order queue (idempotent)."""
    return purchasing.put_supplier(supplier_id, supplier).model_dump(mode="json")


@app.get("/suppliers/<supplier_id>")
def get_supplier(supplier_id: PathId) -> dict:
    return purchasing.get_supplier(supplier_id).model_dump(mode="json")


# ------------------------------------------------------------------ purchase orders
@app.get("/purchase-orders")
def list_purchase_orders(status: Annotated[PurchaseOrderStatus | None, Query()] = None,
                         limit: Annotated[int, Query(ge=1, le=100)] = 25,
                         cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict:
    orders, next_cursor = purchasing.list_purchase_orders(status, limit, cursor)
    return {"purchase_orders": [po.public() for po in orders], "next_cursor": next_cursor}


@app.get("/purchase-orders/<po_id>")
def get_purchase_order(po_id: IssuedId) -> dict:
    """The purchase order with its timeline."""
    logger.set_correlation_id(po_id)
    return purchasing.get_purchase_order(po_id).public()


def who() -> str:
    """Who is acting, for the purchase order's timeline: the token's subject."""
    caller = caller_of(app.current_event.raw_event, settings.customer_id_claim)
    return caller.subject or "admin"


def lines_of(request: PurchaseOrderIn | PurchaseOrderChangeIn) -> list[ManualLine] | None:
    if request.lines is None:
        return None
    return [ManualLine(sku=line.sku, quantity=line.quantity, unit_cost=line.unit_cost) for line in request.lines]


@idempotent
def _create_once(request: dict) -> dict:
    body = PurchaseOrderIn.model_validate(request["body"])
    po = purchasing.create(po_id=request["po_id"], supplier_id=body.supplier_id, lines=lines_of(body) or [],
                           by=request["by"], expected_by=body.expected_by, deliver_to=body.deliver_to,
                           note=body.note)
    return po.public()


@app.post("/purchase-orders")
def create_purchase_order(request: PurchaseOrderIn, idempotency_key: IdempotencyKey) -> Response[dict]:
    """A purchase order made by hand: sent to the supplier at once, or PENDING_APPROVAL when it is worth more
    than the approval threshold. A retry with the same Idempotency-Key returns the same purchase order."""
    by = who()
    po_id = manual_purchase_order_id(by, idempotency_key)
    logger.set_correlation_id(po_id)
    po = _create_once(request={"scope": f"purchase-order/{by}", "key": idempotency_key, "po_id": po_id, "by": by,
                               "body": request.model_dump(mode="json")})
    count(metrics, "PurchaseOrdersMadeByHand")
    return Response(status_code=201, content_type="application/json", body=po,
                    headers={"Location": f"/purchase-orders/{po['po_id']}"})


@app.patch("/purchase-orders/<po_id>")
def change_purchase_order(po_id: IssuedId, request: PurchaseOrderChangeIn) -> dict:
    """Change a DRAFT or PENDING_APPROVAL purchase order (lines, delivery day, location, note)."""
    logger.set_correlation_id(po_id)
    return purchasing.change(po_id, by=who(), lines=lines_of(request), expected_by=request.expected_by,
                             deliver_to=request.deliver_to, note=request.note).public()


@app.post("/purchase-orders/<po_id>/approve")
def approve_purchase_order(po_id: IssuedId) -> dict:
    """Approve a PENDING_APPROVAL purchase order: it is sent to the supplier (409 for any other status)."""
    logger.set_correlation_id(po_id)
    po = purchasing.approve(po_id, by=who())
    count(metrics, "PurchaseOrdersApproved")
    return po.public()


@app.post("/purchase-orders/<po_id>/cancel")
def cancel_purchase_order(po_id: IssuedId, request: Annotated[PurchaseOrderCancelIn | None, Body()] = None) -> dict:
    """Cancel a purchase order the supplier has not shipped: its units leave on_order, and a supplier that
    was sent it is sent a cancellation."""
    logger.set_correlation_id(po_id)
    return purchasing.cancel(po_id, by=who(), reason=(request or PurchaseOrderCancelIn()).reason).public()


# ------------------------------------------------------------------ replenishment runs
@app.post("/replenishment/runs")
def start_run(request: Annotated[RunIn | None, Body()] = None) -> Response[dict]:
    """Start a replenishment run now; it runs in the background (poll ``GET /replenishment/runs/{run_id}``)."""
    run = replenishment.request_run((request or RunIn()).note)
    logger.set_correlation_id(run.run_id)
    count(metrics, "ReplenishmentRunsRequested")
    return Response(status_code=202, content_type="application/json", body=run.model_dump(mode="json"),
                    headers={"Location": f"/replenishment/runs/{run.run_id}"})


@app.get("/replenishment/runs")
def list_runs(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
    """Recent runs, newest first."""
    return {"runs": [run.model_dump(mode="json") for run in replenishment.list_runs(limit)]}


@app.get("/replenishment/runs/<run_id>")
def get_run(run_id: IssuedId, limit: Annotated[int, Query(ge=1, le=1000)] = 500,
            cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict:
    """The run and, per SKU (batch after batch, in SKU order within each), what it decided and why: ``limit``
    decisions a page, the next page from ``next_cursor`` (a run of a large catalogue would not fit one
    response)."""
    logger.set_correlation_id(run_id)
    run, decisions, next_cursor = replenishment.get_run_page(run_id, limit, cursor)
    return {**run.model_dump(mode="json"), "decisions": [d.model_dump(mode="json") for d in decisions],
            "next_cursor": next_cursor}


# ------------------------------------------------------------------ policy simulations
@app.post("/replenishment/simulations")
def start_simulation(request: SimulationIn,
                     idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1,
                                                                   max_length=128)] = None) -> Response[dict]:
    """Replay the demand history through the policies (docs/simulation.md); it runs in the background
    (poll ``GET /replenishment/simulations/{simulation_id}``). A retry with the same Idempotency-Key
    returns the first simulation."""
    simulation = simulations.request(request, idempotency_key)
    logger.set_correlation_id(simulation.simulation_id)
    count(metrics, "SimulationsRequested")
    body = simulation.model_dump(mode="json", include={"simulation_id", "status", "requested_at", "history_end"})
    return Response(status_code=202, content_type="application/json", body=body,
                    headers={"Location": f"/replenishment/simulations/{simulation.simulation_id}"})


@app.get("/replenishment/simulations/<simulation_id>")
def get_simulation(simulation_id: IssuedId) -> dict:
    """The simulation's request and status; the result (totals, per class, curve, per SKU) once
    COMPLETED, the error if FAILED; the SKUs it skipped and why."""
    logger.set_correlation_id(simulation_id)
    return simulations.get(simulation_id)


# ------------------------------------------------------------------ demand history
@app.post("/demand/history")
def import_history(request: HistoryImportIn) -> dict:
    """Set the demand of SKUs on days (importing the same rows again changes nothing). Rows of unknown
    SKUs, bad dates or bad quantities are skipped and listed with their row number (from 1)."""
    result = replenishment.import_history(request.rows)
    count(metrics, "DemandRowsImported", result["imported"])
    return result


LOCATION_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"  # an Identifier


@app.get("/demand/<sku>")
def get_demand_history(sku: PathId, start: Annotated[date | None, Query()] = None,
                       end: Annotated[date | None, Query()] = None,
                       location_id: Annotated[str | None, Query(max_length=64, pattern=LOCATION_ID)] = None) -> dict:
    """Daily demand of a SKU between ``start`` and ``end`` (both included, YYYY-MM-DD): over every location,
    or at ``location_id`` (what shipped from it, less the returns it received)."""
    first, last = (d.isoformat() if d else None for d in (start, end))
    return {"sku": sku, "start": first, "end": last, **({"location_id": location_id} if location_id else {}),
            "history": replenishment.history(sku, first, last, location_id)}
