"""HTTP API: orders, cancel, returns (RMA), stock, products and customers. The warehouse's routes (locations,
pick lists, shipments) are functions/warehouse_api's.

Thin: Powertools validates requests against the pydantic models; the areas' services do the work; errors
leave as ``{"error": {code, message, details}}``. The intake also serves the whole API's OpenAPI document
(/openapi.json, Swagger UI at /swagger; docs/api.md).
The returns service, the idempotency layer and the Swagger page are built by the first request that needs them, so a
cold start pays only for what every request uses (docs/decisions.md, "Cold start").
"""

from __future__ import annotations

from orderflow import init_phase  # first: no garbage collection while the modules load

# isort: split
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query

from orderflow import wiring
from orderflow.orders import OrderStatus
from orderflow.orders.requests import CancelIn, ShipIn, SubmitOrderIn
from orderflow.platform.http_api import Bodies, IssuedId, PathId, caller_of, http_function
from orderflow.platform.idempotency import idempotency
from orderflow.platform.lambda_support import count, once
from orderflow.shared.access import Caller, Role
from orderflow.shared.errors import Unprocessable
from orderflow.shared.settings import get_settings

if TYPE_CHECKING:
    from orderflow.catalogue import requests as catalogue_in
    from orderflow.inventory import requests as stock_in
    from orderflow.returns import ReturnService
    from orderflow.returns import requests as returns_in
else:  # the bodies of the catalogue, stock and returns routes load with their route's first request
    catalogue_in, stock_in, returns_in = (Bodies(f"orderflow.{area}.requests")
                                          for area in ("catalogue", "inventory", "returns"))

settings = get_settings()
app, logger, tracer, metrics, handler = http_function("order_intake", settings.max_body_bytes)
service = wiring.order_service(settings)
catalogue = once(lambda: wiring.catalogue_service(settings))  # the catalogue and stock routes' services: on their
inventory = once(lambda: wiring.inventory_service(settings))  # first request (taking and reading orders use neither)
SWAGGER_PATH = "/swagger"
# The OpenAPI document says what the key does (scripts/openapi.py), for every route that takes one.
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128)]


@once
def returns() -> ReturnService:
    """Built by the first request that reads or makes a return: the other routes never load the returns area."""
    return wiring.return_service(settings, service, inventory())


@once
def openapi_document() -> str:
    """The whole API's OpenAPI document, merged from every function at build time (scripts/openapi.py)."""
    return (Path(__file__).parent / "openapi.json").read_text(encoding="utf-8")


@once
def swagger_page() -> str:
    """Swagger UI over the document, with Powertools' bundled script and style (nothing from a CDN)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui

    assets = Path(swagger_ui.__file__).parent
    script, style = ((assets / name).read_text(encoding="utf-8")
                     for name in ("swagger-ui-bundle.min.js", "swagger-ui.min.css"))
    return swagger_ui.generate_swagger_html(openapi_document().replace("</", "<\\/"), script, style, "", None)


@app.get("/openapi.json", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


@app.get(SWAGGER_PATH, include_in_schema=False)
def get_swagger() -> Response[str]:
    if app.current_event.get_query_string_value("format") == "json":
        return get_openapi()
    return Response(status_code=200, content_type="text/html", body=swagger_page())


def caller() -> Caller:
    """Who is calling (the JWT authorizer checked the token and the route's scopes; docs/security.md)."""
    return caller_of(app.current_event.raw_event, settings.customer_id_claim)


def own_order(order_id: str) -> None:
    """A customer may act only on their own orders (another's is not found); staff on any."""
    who = caller()
    if not who.is_staff:
        who.require_owner(service.get_order(order_id).customer_id, f"order {order_id}")


# ------------------------------------------------------------------ idempotency
idempotent = idempotency(app, settings)


# ------------------------------------------------------------------ catalogue and stock
@app.put("/products/<sku>")
def put_product(sku: PathId, product: catalogue_in.ProductIn) -> dict:
    return catalogue().put_product(sku, product).model_dump(mode="json")


@app.get("/products/<sku>")
def get_product(sku: PathId) -> dict:
    return catalogue().get_product(sku).model_dump(mode="json")


@app.put("/customers/<customer_id>")
def put_customer(customer_id: PathId, customer: catalogue_in.CustomerIn) -> dict:
    return catalogue().put_customer(customer_id, customer).model_dump(mode="json")


@app.get("/customers/<customer_id>")
def get_customer(customer_id: PathId) -> dict:
    caller().require_customer(customer_id)
    return catalogue().get_customer(customer_id).model_dump(mode="json")


@idempotent
def _pay_once(request: dict) -> dict:
    payment = catalogue_in.PaymentIn.model_validate(request["body"])
    return catalogue().record_payment(request["customer_id"], payment).model_dump(mode="json")


@app.post("/customers/<customer_id>/payments")
def record_payment(customer_id: PathId, payment: catalogue_in.PaymentIn) -> dict:
    """A payment posted by the ERP: lowers the customer's open exposure. Its reference makes it idempotent."""
    return _pay_once(request={"scope": f"payment/{customer_id}", "key": payment.reference,
                              "customer_id": customer_id, "body": payment.model_dump(mode="json")})


@app.get("/stock/<sku>")
def get_stock(sku: PathId) -> dict:
    return inventory().get_stock(sku).model_dump()


@idempotent
def _adjust_once(request: dict) -> dict:
    adjustment = stock_in.StockAdjustmentIn.model_validate(request["body"])
    return inventory().adjust_stock(request["sku"], adjustment).model_dump()


@app.post("/stock/<sku>/adjustments")
def adjust_stock(sku: PathId, adjustment: stock_in.StockAdjustmentIn,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None
                 ) -> dict:
    """Stock received (a positive quantity: the warehouse or an admin) or counted down (a write-off or a
    correction: admins only)."""
    caller().require_role(Role.ADMIN, "counting stock down (a write-off or a correction)",
                          unless=adjustment.quantity > 0)
    if idempotency_key is None:
        level = inventory().adjust_stock(sku, adjustment).model_dump()
    else:
        level = _adjust_once(request={"scope": f"stock/{sku}", "key": idempotency_key, "sku": sku,
                                      "body": adjustment.model_dump()})
    if adjustment.quantity > 0:  # also on a replayed key: finishes an announcement that failed after the receipt
        inventory().stock_arrived([sku])
    return level


# ------------------------------------------------------------------ orders
@idempotent
def _submit_once(request: dict) -> dict:
    order = service.submit(SubmitOrderIn.model_validate(request["body"]), request["key"])
    logger.set_correlation_id(order.order_id)
    count(metrics, "OrdersSubmitted")
    return order.public()


@app.post("/orders")
def submit_order(order: SubmitOrderIn, idempotency_key: IdempotencyKey) -> Response[dict]:
    caller().require_customer(order.customer_id)
    created = _submit_once(request={"scope": order.customer_id, "key": idempotency_key,
                                    "body": order.model_dump(mode="json")})
    return Response(status_code=201, content_type="application/json", body=created,
                    headers={"Location": f"/orders/{created['order_id']}"})


@app.get("/orders")
def list_orders(customer_id: Annotated[str, Query(min_length=1, max_length=64)],
                limit: Annotated[int, Query(ge=1, le=100)] = 25,
                cursor: Annotated[str | None, Query(max_length=2048)] = None,
                status: Annotated[OrderStatus | None, Query()] = None,
                placed_from: Annotated[date | None, Query(description="first UTC day, included")] = None,
                placed_to: Annotated[date | None, Query(description="last UTC day, included")] = None) -> dict:
    """A customer's orders, newest first, placed between two days (both included) and in one status if asked: a
    page may hold fewer than ``limit`` orders when a status is asked; follow ``next_cursor``."""
    caller().require_customer(customer_id)
    days = (placed_from and placed_from.isoformat(), placed_to and placed_to.isoformat())
    orders, next_cursor = service.list_orders(customer_id, limit, cursor, status, *days)
    return {"orders": [o.public() for o in orders], "next_cursor": next_cursor}


@app.get("/orders/<order_id>")
def get_order(order_id: IssuedId) -> dict:
    logger.set_correlation_id(order_id)
    order = service.get_order(order_id)
    caller().require_owner(order.customer_id, f"order {order_id}")
    return {**order.public(), "shipments": [s.public() for s in service.shipments_of(order)],
            "returns": [r.summary() for r in returns().for_order(order)] if order.had_returns else []}


@app.post("/orders/<order_id>/cancel")
def cancel_order(order_id: IssuedId, request: Annotated[CancelIn | None, Body()] = None,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None
                 ) -> dict:
    """The whole order, or with ``lines`` some units of it (docs/fulfilment.md, Cancelling some units): then an
    Idempotency-Key is required, so that a retry does not cancel the units twice."""
    logger.set_correlation_id(order_id)
    own_order(order_id)
    request = request or CancelIn()
    if request.lines is None:
        order = service.cancel(order_id, request.reason, by=caller().actor)
    elif not idempotency_key:
        raise Unprocessable("cancelling some lines needs an Idempotency-Key header, so a retry cancels nothing twice",
                            {"header": "Idempotency-Key"})
    else:
        order = service.cancel_lines(order_id, {li.sku: li.quantity for li in request.lines}, request.reason,
                                     idempotency_key, by=caller().actor)
    count(metrics, "OrdersCancelled")
    return order.public()


@app.post("/orders/<order_id>/ship")
def ship_order(order_id: IssuedId, shipment: Annotated[ShipIn | None, Body()] = None) -> dict:
    logger.set_correlation_id(order_id)
    return service.ship(order_id, shipment or ShipIn()).public()


@app.post("/orders/<order_id>/deliver")
def deliver_order(order_id: IssuedId) -> dict:
    logger.set_correlation_id(order_id)
    order = service.deliver(order_id)
    count(metrics, "OrdersDelivered")
    return order.public()


# ------------------------------------------------------------------ returns (RMA) and exchanges
@idempotent
def _return_once(request: dict) -> dict:
    body = returns_in.ReturnRequestIn.model_validate(request["body"])
    ret = returns().request(request["order_id"], body, request["key"], by=request["by"])
    count(metrics, "ReturnsRequested")
    return ret.public()


@app.post("/orders/<order_id>/returns")
def request_return(order_id: IssuedId, request: returns_in.ReturnRequestIn,
                   idempotency_key: IdempotencyKey) -> Response[dict]:
    """Return delivered goods (optionally exchanging them for others); approved at once when valid. The
    Idempotency-Key is required, as for orders: a retried request must not make a second return."""
    logger.set_correlation_id(order_id)
    own_order(order_id)
    created = _return_once(request={"scope": f"returns/{order_id}", "key": idempotency_key,
                                    "order_id": order_id, "body": request.model_dump(mode="json"),
                                    "by": caller().actor})
    return Response(status_code=201, content_type="application/json", body=created,
                    headers={"Location": f"/returns/{created['return_id']}"})


@app.get("/returns/<return_id>")
def get_return(return_id: IssuedId) -> dict:
    found = returns().get(return_id)
    caller().require_owner(found.customer_id, f"return {return_id}")
    return found.public()


@app.post("/returns/<return_id>/receive")
def receive_return(return_id: IssuedId, receipt: returns_in.ReceiveIn) -> dict:
    """The warehouse received the goods: restock or scrap each line, refund, close the return."""
    return returns().receive(return_id, receipt).public()


init_phase.ready()
