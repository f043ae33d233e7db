"""What the OpenAPI document says that the handlers cannot: each operation's tag, summary, success status and
response body, the errors it may answer and an example request (docs/api.md). ``scripts/openapi.py`` joins it
to what Powertools generates from the handlers (parameters and request bodies, as strict as the validation).

The response bodies are the domain models the handlers dump, so the document cannot drift from them; the
wrappers below are the envelopes the handlers build around them (lists, pages).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from orderflow.alerts import Alert
from orderflow.catalogue import Customer, Product
from orderflow.fulfilment import Location, Shipment
from orderflow.inventory import StockLevel, StockPosition
from orderflow.orders import Order, OrderLine
from orderflow.purchasing import PurchaseOrder, Supplier
from orderflow.replenishment import Decision, ReplenishmentRun, RunStatus
from orderflow.replenishment.simulation.models import Simulation
from orderflow.returns import Return, ReturnStatus

Cursor = Field(None, description="pass it as `cursor` for the next page; null on the last page")


def _without(*names: str) -> Any:
    """Drop fields the handler leaves out of its answer from the schema."""
    def drop(schema: dict[str, Any]) -> None:
        for name in names:
            schema.get("properties", {}).pop(name, None)
            if name in schema.get("required", []):
                schema["required"].remove(name)
    return drop


class OrderLineView(OrderLine):
    """A line of an order, with where its units are."""

    allocated: int = Field(description="held at a location, not shipped yet")
    shipped: int = Field(description="left a location (delivered included)")
    delivered: int
    backordered: int = Field(description="waiting for stock")
    cancelled: int


class OrderView(Order):
    """An order as the API answers it (its shipments' records come with ``GET /orders/{order_id}``)."""

    model_config = ConfigDict(json_schema_extra=_without("shipments", "cancel_keys"))
    lines: list[OrderLineView]


class ReturnLineSummary(BaseModel):
    sku: str
    quantity: int


class ReturnSummary(BaseModel):
    """What an order shows of each of its returns."""

    return_id: str
    status: ReturnStatus
    refund_amount: float
    lines: list[ReturnLineSummary]
    created_at: str
    exchange_order_id: str | None = None


class OrderDetail(OrderView):
    """An order with its shipments and its returns."""

    model_config = ConfigDict(json_schema_extra=_without("cancel_keys"))
    shipments: list[Shipment]  # type: ignore[assignment]
    returns: list[ReturnSummary]


class OrderPage(BaseModel):
    orders: list[OrderView]
    next_cursor: str | None = Cursor


class LocationList(BaseModel):
    locations: list[Location]


class ShipmentPage(BaseModel):
    shipments: list[Shipment]
    next_cursor: str | None = Cursor


class PurchaseOrderPage(BaseModel):
    purchase_orders: list[PurchaseOrder]
    next_cursor: str | None = Cursor


class RunList(BaseModel):
    runs: list[ReplenishmentRun]


class RunPage(ReplenishmentRun):
    """A run and one page of its decisions, per SKU in SKU order."""

    decisions: list[Decision]
    next_cursor: str | None = Cursor


class SimulationAccepted(BaseModel):
    simulation_id: str
    status: RunStatus
    requested_at: str
    history_end: str


class SimulationView(Simulation):
    """A simulation: the request, its status; the result once COMPLETED, the error if FAILED."""

    model_config = ConfigDict(json_schema_extra=_without("summary"))
    result: dict[str, Any] | None = Field(None, description="COMPLETED: totals, by_class, curve and per SKU (skus)")


class SkippedRow(BaseModel):
    row: int = Field(description="its number in `rows`, from 1")
    sku: str | None
    problem: str


class HistoryImported(BaseModel):
    imported: int
    skipped: list[SkippedRow]


class DemandDay(BaseModel):
    day: str = Field(description="YYYY-MM-DD")
    quantity: int


class DemandHistory(BaseModel):
    sku: str
    start: str | None
    end: str | None
    location_id: str | None = None
    history: list[DemandDay]


class Kpis(BaseModel):
    """The KPIs of a range of days (docs/kpis.md); shares are 0..1, null when nothing was measured."""

    model_config = ConfigDict(extra="allow")
    from_: str = Field(alias="from")
    to: str
    location_id: str | None
    fill_rate: dict[str, float | None] = Field(description="orders, lines and units shipped complete")
    on_time_shipment_rate: float | None
    orders_shipped: int
    stock_out_rate: float | None
    days_of_cover: float | None
    inventory_turns: float | None
    forecast_error: dict[str, Any] | None = Field(description="WAPE and bias of the last completed run")


class AlertList(BaseModel):
    alerts: list[Alert]
    next_since: str | None = Field(description="pass it as `since` to get only newer alerts")


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: VALIDATION_FAILED, NOT_FOUND, CONFLICT, ... Every code "
                                  "with its status: docs/decisions.md, \"HTTP errors\". Switch on the status first: a "
                                  "code refines it, and a code added later keeps its status's meaning.")
    message: str = Field(description="for people")
    details: dict[str, Any] = Field(description="what was wrong, e.g. `problems` [{field, problem, type}]")


class ErrorBody(BaseModel):
    """Every error the API's functions answer (docs/decisions.md, "HTTP errors"): nothing was changed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": {
        "code": "VALIDATION_FAILED", "message": "the request does not match the API schema",
        "details": {"problems": [{"field": "body.lines", "problem": "Field required", "type": "missing"}]}}}]})
    error: ErrorDetail


class GatewayMessage(BaseModel):
    """An answer of API Gateway itself (its authorizer, throttling or a function that failed), which an HTTP
    API cannot reshape."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "Unauthorized"}]})
    message: str


def _countries() -> list[str]:
    from iso3166 import countries_by_alpha2

    return sorted(countries_by_alpha2)


ONE_LINE_PER_SKU = {"uniqueItems": True, "description": "one line per SKU: the API refuses a SKU on two lines "
                                                       "(put its total on one), which JSON Schema cannot say"}
# What a model's validators check beyond its fields' constraints, so that the document is as strict
# ("Model.field", or "Model" for the whole object; on a nullable field, the non-null form).
VALIDATORS: dict[str, dict[str, Any]] = {
    "Address.country": {"enum": _countries(), "description": "ISO 3166-1 alpha-2, upper case"},
    "StockAdjustmentIn.quantity": {"not": {"const": 0}, "description": "units in (positive) or out, never 0"},
    "ProductIn": {
        "not": {"required": ["supplier_id", "suppliers"]},
        # without suppliers, a replenishment gives its own terms (if/then: client generators read it)
        "if": {"not": {"required": ["suppliers"], "properties": {"suppliers": {"type": "array"}}}},
        "then": {"properties": {"replenishment": {"anyOf": [{"type": "null"}, {
            "required": ["unit_cost", "lead_time_days"],
            "properties": {"unit_cost": {"not": {"type": "null"}}, "lead_time_days": {"not": {"type": "null"}}}}]}}},
        "description": "A product: give its one supplier (supplier_id) or several (suppliers), not both. Without "
                       "suppliers, replenishment needs its own unit_cost and lead_time_days."},
    "PurchaseOrderChangeIn": {"minProperties": 1, "description": "What to change: at least one field."},
    **{f"{model}.{field}": ONE_LINE_PER_SKU for model, field in [
        ("SubmitOrderIn", "lines"), ("CancelIn", "lines"), ("ShipIn", "lines"), ("ReturnRequestIn", "lines"),
        ("ReturnRequestIn", "exchange"), ("ReceiveIn", "lines"), ("PurchaseOrderIn", "lines"),
        ("PurchaseOrderChangeIn", "lines")]},
    "ProductIn.suppliers": {"uniqueItems": True, "description": "each supplier once: the API refuses a supplier "
                                                                "named twice, which JSON Schema cannot say"},
}


class Op(NamedTuple):
    tag: str
    summary: str
    body: type[BaseModel] | None  # the success answer's body (None: the body is not JSON)
    status: int = 200
    description: str = ""  # when the handler has no docstring
    example: dict[str, Any] | None = None  # a request body that passes validation


TAGS = [
    ("Orders", "Place, list, read and cancel orders; ship and deliver whole orders."),
    ("Shipments", "The warehouse's pick list and each shipment's pick, pack, ship and deliver."),
    ("Returns", "Returns (RMA) and exchanges: request, receive, refund."),
    ("Catalogue", "Products and customers (credit, payments)."),
    ("Stock", "Stock levels per SKU and location, and adjustments."),
    ("Locations", "Warehouses and stores that hold and ship stock."),
    ("Purchasing", "Suppliers and purchase orders."),
    ("Replenishment", "Replenishment runs, policy simulations and demand history."),
    ("Operations", "Live KPIs and alerts."),
    ("API", "This document."),
]

ADDRESS = {"name": "Ada Lovelace", "line1": "12 Market Street", "city": "Leeds", "postal_code": "LS1 6DT",
           "country": "GB"}
ROUTES: dict[tuple[str, str], Op] = {
    # orders
    ("POST", "/orders"): Op(
        "Orders", "Place an order", OrderView, 201,
        "Accepted as PENDING; the order workflow validates it, checks credit and reserves stock (poll the order "
        "or follow its events). The Idempotency-Key makes a retry return the first order. Customers may place "
        "orders only for themselves.",
        {"customer_id": "C-1001", "lines": [{"sku": "SKU-RED-M", "quantity": 2}], "shipping_address": ADDRESS}),
    ("GET", "/orders"): Op("Orders", "List a customer's orders", OrderPage,
                           description="Newest first, `limit` a page; customers see only their own."),
    ("GET", "/orders/{order_id}"): Op("Orders", "Read an order", OrderDetail,
                                      description="The order with its lines, timeline, shipments and returns."),
    ("POST", "/orders/{order_id}/cancel"): Op("Orders", "Cancel an order or some of its units", OrderView,
                                              example={"reason": "customer changed their mind",
                                                       "lines": [{"sku": "SKU-RED-M", "quantity": 1}]}),
    ("POST", "/orders/{order_id}/ship"): Op(
        "Orders", "Ship a whole order", OrderView,
        description="Ships every open shipment of the order (or `lines` of it) with the carrier and tracking.",
        example={"carrier": "DHL", "tracking": "JD014600006281234567"}),
    ("POST", "/orders/{order_id}/deliver"): Op("Orders", "Mark an order delivered", OrderView,
                                               description="Every shipped shipment of the order was delivered."),
    # shipments
    ("GET", "/locations/{location_id}/shipments"): Op("Shipments", "A location's pick list", ShipmentPage),
    ("GET", "/shipments/{shipment_id}"): Op("Shipments", "Read a shipment", Shipment,
                                            description="Customers may read their own orders' shipments."),
    ("POST", "/shipments/{shipment_id}/pick"): Op("Shipments", "Pick a shipment", Shipment,
                                                  description="RELEASED to PICKED."),
    ("POST", "/shipments/{shipment_id}/pack"): Op("Shipments", "Pack a shipment", Shipment,
                                                  description="PICKED to PACKED."),
    ("POST", "/shipments/{shipment_id}/ship"): Op(
        "Shipments", "Ship a shipment, or part of it", Shipment,
        description="With `lines`, only those units leave; the rest waits in a new shipment.",
        example={"carrier": "UPS", "tracking": "1Z999AA10123456784", "lines": [{"sku": "SKU-RED-M", "quantity": 1}]}),
    ("POST", "/shipments/{shipment_id}/deliver"): Op("Shipments", "Mark a shipment delivered", Shipment,
                                                     description="SHIPPED to DELIVERED; the order is delivered "
                                                                 "when all its shipments are."),
    # returns
    ("POST", "/orders/{order_id}/returns"): Op(
        "Returns", "Return goods of a delivered order", Return, 201,
        example={"lines": [{"sku": "SKU-RED-M", "quantity": 1, "reason": "too small"}],
                 "exchange": [{"sku": "SKU-RED-L", "quantity": 1}]}),
    ("GET", "/returns/{return_id}"): Op("Returns", "Read a return", Return,
                                    description="Its lines, status, refund and timeline; customers read their own."),
    ("POST", "/returns/{return_id}/receive"): Op(
        "Returns", "Receive a return's goods", Return,
        example={"lines": [{"sku": "SKU-RED-M", "quantity": 1, "condition": "resellable"}], "location_id": "main"}),
    # catalogue
    ("PUT", "/products/{sku}"): Op("Catalogue", "Create or replace a product", Product,
                                   description="Its price, suppliers and replenishment settings.",
                                   example={"name": "T-shirt red M", "unit_price": 19.5, "supplier_id": "SUP-1"}),
    ("GET", "/products/{sku}"): Op("Catalogue", "Read a product", Product,
                                   description="Price, suppliers and replenishment settings."),
    ("PUT", "/customers/{customer_id}"): Op("Catalogue", "Create or replace a customer", Customer,
                                            description="Name and credit limit (open exposure is kept).",
                                            example={"name": "Ada Lovelace", "credit_limit": 500}),
    ("GET", "/customers/{customer_id}"): Op("Catalogue", "Read a customer", Customer,
                                            description="Credit limit and open exposure; customers read their own."),
    ("POST", "/customers/{customer_id}/payments"): Op("Catalogue", "Record a customer's payment", Customer,
                                                      example={"amount": 120.5, "reference": "ERP-PAY-88412"}),
    # stock
    ("GET", "/stock/{sku}"): Op("Stock", "Read a SKU's stock", StockPosition,
                                description="Totals and the level at each location that holds it."),
    ("POST", "/stock/{sku}/adjustments"): Op(
        "Stock", "Adjust stock on hand", StockLevel,
        description="A receipt (positive) or a write-off (negative) at a location; with an Idempotency-Key a "
                    "retry changes nothing. A receipt wakes backordered orders.",
        example={"quantity": 24, "reason": "cycle count", "location_id": "main"}),
    # locations
    ("PUT", "/locations/{location_id}"): Op("Locations", "Create or replace a location", Location,
                                            description="Its address, priority (lower ships first) and kind; an "
                                                        "inactive location neither ships nor is replenished.",
                                            example={"name": "Leeds DC", "address": ADDRESS, "priority": 10}),
    ("GET", "/locations/{location_id}"): Op("Locations", "Read a location", Location,
                                            description="A warehouse, store or 3PL that holds and ships stock."),
    ("GET", "/locations"): Op("Locations", "List locations", LocationList,
                              description="Every location, the main warehouse included."),
    # purchasing
    ("PUT", "/suppliers/{supplier_id}"): Op("Purchasing", "Create or replace a supplier", Supplier,
                                            example={"name": "Acme Textiles", "capacity_per_cycle": 5000}),
    ("GET", "/suppliers/{supplier_id}"): Op("Purchasing", "Read a supplier", Supplier,
                                            description="Its capacity, approval threshold and whether it is active."),
    ("GET", "/purchase-orders"): Op("Purchasing", "List purchase orders", PurchaseOrderPage,
                                    description="Optionally in one `status`; `limit` a page."),
    ("GET", "/purchase-orders/{po_id}"): Op("Purchasing", "Read a purchase order", PurchaseOrder),
    ("POST", "/purchase-orders"): Op(
        "Purchasing", "Make a purchase order by hand", PurchaseOrder, 201,
        example={"supplier_id": "SUP-1", "lines": [{"sku": "SKU-RED-M", "quantity": 100, "unit_cost": 6.2}],
                 "expected_by": "2027-01-15", "note": "promotion stock"}),
    ("PATCH", "/purchase-orders/{po_id}"): Op("Purchasing", "Change a purchase order", PurchaseOrder,
                                              example={"lines": [{"sku": "SKU-RED-M", "quantity": 80}]}),
    ("POST", "/purchase-orders/{po_id}/approve"): Op("Purchasing", "Approve a purchase order", PurchaseOrder),
    ("POST", "/purchase-orders/{po_id}/cancel"): Op("Purchasing", "Cancel a purchase order", PurchaseOrder,
                                                    example={"reason": "supplier cannot deliver in time"}),
    # replenishment
    ("POST", "/replenishment/runs"): Op("Replenishment", "Start a replenishment run", ReplenishmentRun, 202,
                                        example={"note": "after the stock count"}),
    ("GET", "/replenishment/runs"): Op("Replenishment", "List recent runs", RunList),
    ("GET", "/replenishment/runs/{run_id}"): Op("Replenishment", "Read a run and its decisions", RunPage),
    ("POST", "/replenishment/simulations"): Op(
        "Replenishment", "Start a policy simulation", SimulationAccepted, 202,
        example={"days": 364, "policies": ["orderflow", "minmax"], "targets": [0.9, 0.95]}),
    ("GET", "/replenishment/simulations/{simulation_id}"): Op("Replenishment", "Read a simulation", SimulationView),
    ("POST", "/demand/history"): Op("Replenishment", "Import demand history", HistoryImported,
                                    example={"rows": [{"sku": "SKU-RED-M", "day": "2026-11-30", "quantity": 7}]}),
    ("GET", "/demand/{sku}"): Op("Replenishment", "Read a SKU's daily demand", DemandHistory),
    # operations
    ("GET", "/kpis"): Op("Operations", "Live KPIs of a range of days", Kpis),
    ("GET", "/alerts"): Op("Operations", "Alerts told", AlertList),
    # this document
    ("GET", "/openapi.json"): Op("API", "This OpenAPI document", None,
                                 description="The whole API, merged from every function (docs/api.md)."),
    ("GET", "/swagger"): Op("API", "Swagger UI over this document", None,
                            description="An HTML page; `?format=json` answers the document itself."),
}
