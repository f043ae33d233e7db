"""HTTP API: orders, cancel, warehouse ship/deliver, returns (RMA), stock, products and customers.

Thin: Powertools validates requests against the pydantic models (and serves the OpenAPI at
/swagger); ``OrderService`` does the work; errors leave as ``{"error": {code, message, details}}``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from orderflow.errors import OrderflowError
from orderflow.lambda_support import count, observability
from orderflow.models import CancelIn, CustomerIn, PaymentIn, ProductIn, ShipIn, StockAdjustmentIn, SubmitOrderIn
from orderflow.returns import ReceiveIn, ReturnRequestIn, ReturnService
from orderflow.service import OrderService
from orderflow.settings import get_settings

settings = get_settings()
logger, tracer, metrics = observability("order_intake")
service = OrderService.from_settings(settings)
returns = ReturnService.from_settings(service, settings)
app = APIGatewayHttpResolver(enable_validation=True)
app.enable_swagger(path="/swagger", title="Orderflow API", version="1")

idempotency = IdempotencyConfig(
    event_key_jmespath="[scope, key]",
    payload_validation_jmespath="body",
    expires_after_seconds=settings.idempotency_expiry_seconds,
)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table or "idempotency")
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=128,
                                       description="Client-chosen key; a retry with the same key and body "
                                                   "returns the first response and changes nothing.")]
JSON_BODY_METHODS = {"POST", "PUT", "PATCH"}


def error(status: int, code: str, message: str, details: Any = None) -> Response:
    return Response(status_code=status, content_type="application/json",
                    body={"error": {"code": code, "message": message, "details": details or {}}})


# ------------------------------------------------------------------ request guards and errors
def refuse_unreadable(event: dict) -> dict | None:
    """Oversized or non-JSON bodies are refused before anything parses them (Powertools' validation
    would otherwise read them first)."""
    body = event.get("body") or ""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if len(body) > settings.max_body_bytes or len(body.encode()) > settings.max_body_bytes:
        return raw_error(413, "PAYLOAD_TOO_LARGE", f"request body is over {settings.max_body_bytes} bytes")
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    if body and method in JSON_BODY_METHODS and content_type not in ("", "application/json"):
        return raw_error(415, "UNSUPPORTED_MEDIA_TYPE", f"send JSON (application/json), not {content_type}")
    return None


def raw_error(status: int, code: str, message: str) -> dict:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"error": {"code": code, "message": message, "details": {}}})}


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response:
    problems = [{"field": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg"), "type": e.get("type")}
                for e in exc.errors()]
    if any(p["type"] == "json_invalid" for p in problems):
        return error(400, "MALFORMED_JSON", "the request body is not valid JSON", {"problems": problems})
    return error(422, "VALIDATION_FAILED", "the request does not match the API schema", {"problems": problems})


@app.exception_handler(OrderflowError)
def domain_error(exc: OrderflowError) -> Response:
    return error(exc.http_status, exc.code, exc.message, exc.details)


@app.exception_handler(IdempotencyValidationError)
def key_reused(exc: IdempotencyValidationError) -> Response:
    return error(422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was already used with a different body")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def key_in_progress(exc: IdempotencyAlreadyInProgressError) -> Response:
    return error(409, "IDEMPOTENCY_IN_PROGRESS", "a request with this Idempotency-Key is still running; retry shortly")


# ------------------------------------------------------------------ catalogue and stock
@app.put("/products/<sku>")
def put_product(sku: str, product: ProductIn) -> dict:
    return service.put_product(sku, product).model_dump(mode="json")


@app.get("/products/<sku>")
def get_product(sku: str) -> dict:
    return service.get_product(sku).model_dump(mode="json")


@app.put("/customers/<customer_id>")
def put_customer(customer_id: str, customer: CustomerIn) -> dict:
    return service.put_customer(customer_id, customer).model_dump(mode="json")


@app.get("/customers/<customer_id>")
def get_customer(customer_id: str) -> dict:
    return service.get_customer(customer_id).model_dump(mode="json")


@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=persistence)
def _pay_once(request: dict) -> dict:
    payment = PaymentIn.model_validate(request["body"])
    return service.record_payment(request["customer_id"], payment).model_dump(mode="json")


@app.post("/customers/<customer_id>/payments")
def record_payment(customer_id: str, payment: PaymentIn) -> dict:
    """A payment posted by the ERP: lowers the customer's open exposure. Its reference makes it idempotent."""
    return _pay_once(request={"scope": f"payment/{customer_id}", "key": payment.reference,
                              "customer_id": customer_id, "body": payment.model_dump(mode="json")})


@app.get("/stock/<sku>")
def get_stock(sku: str) -> dict:
    return service.get_stock(sku).model_dump()


@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=persistence)
def _adjust_once(request: dict) -> dict:
    return service.adjust_stock(request["sku"], StockAdjustmentIn.model_validate(request["body"])).model_dump()


@app.post("/stock/<sku>/adjustments")
def adjust_stock(sku: str, adjustment: StockAdjustmentIn,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None
                 ) -> dict:
    if idempotency_key is None:
        return service.adjust_stock(sku, adjustment).model_dump()
    return _adjust_once(request={"scope": f"stock/{sku}", "key": idempotency_key, "sku": sku,
                                 "body": adjustment.model_dump()})


# ------------------------------------------------------------------ orders
@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=persistence)
def _submit_once(request: dict) -> dict:
    order = service.submit(SubmitOrderIn.model_validate(request["body"]), request["key"])
    logger.set_correlation_id(order.order_id)
    count(metrics, "OrdersSubmitted")
    return order.public()


@app.post("/orders")
def submit_order(order: SubmitOrderIn, idempotency_key: IdempotencyKey) -> Response[dict]:
    created = _submit_once(request={"scope": order.customer_id, "key": idempotency_key,
                                    "body": order.model_dump(mode="json")})
    return Response(status_code=201, content_type="application/json", body=created,
                    headers={"Location": f"/orders/{created['order_id']}"})


@app.get("/orders")
def list_orders(customer_id: Annotated[str, Query(min_length=1, max_length=64)],
                limit: Annotated[int, Query(ge=1, le=100)] = 25,
                cursor: Annotated[str | None, Query(max_length=2048)] = None) -> dict:
    orders, next_cursor = service.list_orders(customer_id, limit, cursor)
    return {"orders": [o.public() for o in orders], "next_cursor": next_cursor}


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict:
    logger.set_correlation_id(order_id)
    order = service.get_order(order_id)
    return {**order.public(), "returns": [r.summary() for r in returns.for_order(order)]}


@app.post("/orders/<order_id>/cancel")
def cancel_order(order_id: str, request: Annotated[CancelIn | None, Body()] = None) -> dict:
    logger.set_correlation_id(order_id)
    order = service.cancel(order_id, (request or CancelIn()).reason)
    count(metrics, "OrdersCancelled")
    return order.public()


@app.post("/orders/<order_id>/ship")
def ship_order(order_id: str, shipment: Annotated[ShipIn | None, Body()] = None) -> dict:
    logger.set_correlation_id(order_id)
    return service.ship(order_id, shipment or ShipIn()).public()


@app.post("/orders/<order_id>/deliver")
def deliver_order(order_id: str) -> dict:
    logger.set_correlation_id(order_id)
    return service.deliver(order_id).public()


# ------------------------------------------------------------------ returns (RMA) and exchanges
@idempotent_function(data_keyword_argument="request", config=idempotency, persistence_store=persistence)
def _return_once(request: dict) -> dict:
    ret = returns.request(request["order_id"], ReturnRequestIn.model_validate(request["body"]), request["key"])
    count(metrics, "ReturnsRequested")
    return ret.public()


@app.post("/orders/<order_id>/returns")
def request_return(order_id: str, request: ReturnRequestIn,
                   idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)] = None
                   ) -> Response[dict]:
    """Return delivered goods (optionally exchanging them for others); approved at once when valid."""
    logger.set_correlation_id(order_id)
    if idempotency_key is None:
        created = returns.request(order_id, request).public()
        count(metrics, "ReturnsRequested")
    else:
        created = _return_once(request={"scope": f"returns/{order_id}", "key": idempotency_key,
                                        "order_id": order_id, "body": request.model_dump(mode="json")})
    return Response(status_code=201, content_type="application/json", body=created,
                    headers={"Location": f"/returns/{created['return_id']}"})


@app.get("/returns/<return_id>")
def get_return(return_id: str) -> dict:
    return returns.get(return_id).public()


@app.post("/returns/<return_id>/receive")
def receive_return(return_id: str, receipt: ReceiveIn) -> dict:
    """The warehouse received the goods: restock or scrap each line, refund, close the return."""
    return returns.receive(return_id, receipt).public()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: Any) -> dict:
    idempotency.register_lambda_context(context)
    return refuse_unreadable(event) or app.resolve(event, context)
