"""A small HTTP client for the Orderflow API (the local stack or a deployed one).

Every method returns the decoded JSON body and raises :class:`ApiError` on an error response,
except :meth:`OrderflowClient.submit_order`, which returns ``(status_code, body)`` as it came so a
caller can show or assert a 4xx.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

# Methods that may be sent twice without changing the outcome.
SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "PUT", "OPTIONS"})
THROTTLED = 429  # API Gateway throttled the route: the request never reached a function
UNAVAILABLE = 503  # TRY_AGAIN: DynamoDB was busy and nothing was written
# The connection failed or was dropped before an answer came back.
RETRYABLE = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
# Statuses after which an order never moves again.
FINAL_STATUSES = frozenset({"DELIVERED", "CANCELLED", "REJECTED", "FAILED"})
# The offline stack's token endpoint (local/http_api.py; never deployed) and the hosts it is asked on.
LOCAL_TOKEN_PATH = "/_local/token"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ApiError(Exception):
    """The API answered with an error: ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, method: str | None = None,
                 path: str | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
        self.method, self.path = method, path  # the request answered (for a hint about what it needs)

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = None
        try:
            request: dict[str, Any] = {"method": response.request.method, "path": response.request.url.path}
        except RuntimeError:  # a response built without its request
            request = {}
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls(response.status_code, str(error.get("code", "ERROR")), str(error.get("message", "")),
                       error.get("details"), **request)
        if isinstance(body, dict) and isinstance(body.get("message"), str):  # API Gateway's own 401/403 body
            return cls(response.status_code, f"HTTP_{response.status_code}", body["message"], **request)
        text = response.text.strip()[:300] or response.reason_phrase
        return cls(response.status_code, f"HTTP_{response.status_code}", text, **request)


class WaitTimeout(TimeoutError):
    """An order did not reach any of the wanted statuses in time."""

    def __init__(self, order_id: str, wanted: Iterable[str], last: Mapping[str, Any] | None, timeout: float):
        self.order_id = order_id
        self.wanted = sorted(wanted)
        self.last = dict(last) if last else None
        self.status = self.last.get("status") if self.last else None
        if self.status in FINAL_STATUSES:
            message = f"order {order_id} ended {self.status} and will never reach {'/'.join(self.wanted)}"
        else:
            message = (f"order {order_id} did not reach {'/'.join(self.wanted)} within {timeout:g} s "
                       f"(last status: {self.status})")
        super().__init__(message)


def local_token(base_url: str, role: str = "admin", customer_id: str | None = None) -> str:
    """A bearer token of ``role`` from the offline stack at ``base_url`` (for callers using plain httpx)."""
    with httpx.Client(base_url=base_url.rstrip("/"), timeout=10) as http:
        return _local_token(http, base_url, role, customer_id)


def _local_token(http: httpx.Client, base_url: str, role: str, customer_id: str | None) -> str:
    response = http.post(LOCAL_TOKEN_PATH, json={"role": role, "customer_id": customer_id})
    if response.status_code != 200:
        raise ApiError(response.status_code, "NO_LOCAL_TOKEN",
                       f"{base_url} issues no local tokens ({response.status_code}); pass a token "
                       "(--token or ORDERFLOW_TOKEN)")
    return str(response.json()["access_token"])


class OrderflowClient:
    """``OrderflowClient("http://127.0.0.1:3000")``; also a context manager that closes its connections.

    Every request carries ``token`` as its bearer token (the API's JWT authorizer checks it and its
    scopes). Without one, a client of the offline stack (a loopback URL) asks the stack's token
    endpoint for a token of ``role`` (acting for ``customer_id`` when the role is customer); against a
    deployed API, pass the token your identity provider issued."""

    def __init__(self, base_url: str, timeout: float = 10, transport: httpx.BaseTransport | None = None,
                 retries: int = 2, token: str | None = None, role: str = "admin", customer_id: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.role, self.customer_id = role, customer_id
        self._token = token
        self._local = transport is None and urlsplit(self.base_url).hostname in LOOPBACK
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"Accept": "application/json"})

    @property
    def issues_local_tokens(self) -> bool:
        """Talking to the offline stack, which hands out tokens of any role."""
        return self._local

    def _authorization(self) -> dict[str, str]:
        if self._token is None and self._local:
            self._token = self.local_token(self.role, self.customer_id)
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def local_token(self, role: str, customer_id: str | None = None) -> str:
        """A token of ``role`` from the offline stack (``POST /_local/token``; a deployed API has none)."""
        return _local_token(self._http, self.base_url, role, customer_id)

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OrderflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, json: Any = None, content: bytes | str | None = None,
                params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                retry: bool | None = None) -> httpx.Response:
        """The raw response, whatever its status (for callers that want to look at errors themselves).

        ``json`` sends a JSON body; ``content`` sends bytes as they are (set the content-type yourself).
        A connection that fails or is dropped before the answer is retried (``retries`` times, with a
        short backoff) when repeating the request is safe: GET and PUT, any request carrying an
        ``Idempotency-Key``, or ``retry=True`` from a caller that knows the operation is idempotent.
        A 429 from API Gateway's throttling is retried whatever the request (nothing ran), and a 503
        (``TRY_AGAIN``: DynamoDB was busy, nothing written) when repeating is safe, after a pause with full
        jitter, ``retries`` times; then it is answered as it is.
        """
        headers = dict(headers or {})
        if retry is None:
            retry = method.upper() in SAFE_TO_REPEAT or any(h.lower() == "idempotency-key" for h in headers)
        attempts = 1 + self.retries
        for attempt in range(1, attempts + 1):
            try:
                response = self._send(method, path, json=json, content=content, params=params, headers=headers)
            except RETRYABLE:
                if attempt == attempts or not retry:
                    raise
                time.sleep(0.1 * 3 ** (attempt - 1))
                continue
            busy = response.status_code == THROTTLED or (retry and response.status_code == UNAVAILABLE)
            if not busy or attempt == attempts:
                return response
            time.sleep(random.uniform(0, 0.2 * 3 ** (attempt - 1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, *, json: Any, content: bytes | str | None,
              params: Mapping[str, Any] | None, headers: dict[str, str]) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if json is not None:
            kwargs["json"] = json
        if content is not None:
            kwargs["content"] = content
        if params:
            kwargs["params"] = {k: v for k, v in params.items() if v is not None}
        return self._http.request(method, path, headers={**self._authorization(), **headers}, **kwargs)

    def _call(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
              headers: Mapping[str, str] | None = None, retry: bool | None = None) -> Any:
        response = self.request(method, path, json=json, params=params, headers=headers, retry=retry)
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, "BAD_RESPONSE",
                           f"expected JSON from {method} {path}, got: {response.text[:200]!r}") from None

    # ------------------------------------------------------------------ catalogue and stock
    def put_product(self, sku: str, name: str, unit_price: float | str, supplier_id: str | None = None,
                    active: bool | None = None, low_stock_threshold: int | None = None,
                    replenishment: Mapping[str, Any] | None = None,
                    suppliers: Sequence[Mapping[str, Any]] | None = None) -> dict:
        """``replenishment``: the buying parameters (``ReplenishmentIn``: costs, lead time, service level, ...);
        ``suppliers``: several suppliers, each on its own terms (instead of ``supplier_id``)."""
        optional = {"supplier_id": supplier_id, "active": active, "low_stock_threshold": low_stock_threshold,
                    "replenishment": dict(replenishment) if replenishment is not None else None,
                    "suppliers": [dict(s) for s in suppliers] if suppliers is not None else None}
        body = {"name": name, "unit_price": unit_price, **{k: v for k, v in optional.items() if v is not None}}
        return self._call("PUT", f"/products/{sku}", json=body)

    def get_product(self, sku: str) -> dict:
        return self._call("GET", f"/products/{sku}")

    def put_customer(self, customer_id: str, name: str, credit_limit: float | str) -> dict:
        return self._call("PUT", f"/customers/{customer_id}", json={"name": name, "credit_limit": credit_limit})

    def get_customer(self, customer_id: str) -> dict:
        return self._call("GET", f"/customers/{customer_id}")

    def request_return(self, order_id: str, lines: list[dict], idempotency_key: str | None = None,
                       exchange: list[dict] | None = None) -> dict:
        body: dict[str, Any] = {"lines": lines, **({"exchange": exchange} if exchange else {})}
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}  # the API requires one
        return self._call("POST", f"/orders/{order_id}/returns", json=body, headers=headers)

    def receive_return(self, return_id: str, lines: list[dict], location_id: str | None = None) -> dict:
        """POST /returns/{id}/receive; without ``location_id`` the goods go back on main's shelf."""
        body: dict[str, Any] = {"lines": lines, **({"location_id": location_id} if location_id else {})}
        return self._call("POST", f"/returns/{return_id}/receive", json=body, retry=True)

    def get_return(self, return_id: str) -> dict:
        return self._call("GET", f"/returns/{return_id}")

    def record_payment(self, customer_id: str, amount: float, reference: str) -> dict:
        """Post a payment (as an ERP would); the reference makes a retry count once."""
        return self._call("POST", f"/customers/{customer_id}/payments",
                          json={"amount": amount, "reference": reference}, retry=True)

    def adjust_stock(self, sku: str, quantity: int, reason: str = "adjustment",
                     idempotency_key: str | None = None, location_id: str | None = None) -> dict:
        """POST /stock/{sku}/adjustments; without ``location_id`` the API counts it at main."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body: dict[str, Any] = {"quantity": quantity, "reason": reason}
        if location_id is not None:
            body["location_id"] = location_id
        return self._call("POST", f"/stock/{sku}/adjustments", json=body, headers=headers)

    def put_location(self, location_id: str, name: str, address: Mapping[str, Any], priority: int | None = None,
                     kind: str | None = None, active: bool | None = None) -> dict:
        body = {"name": name, "address": dict(address),
                **{k: v for k, v in (("priority", priority), ("kind", kind), ("active", active)) if v is not None}}
        return self._call("PUT", f"/locations/{location_id}", json=body, retry=True)

    # ------------------------------------------------------------------ shipments
    def pick_list(self, location_id: str, status: str = "RELEASED", limit: int | None = None,
                  cursor: str | None = None) -> dict:
        return self._call("GET", f"/locations/{location_id}/shipments",
                          params={"status": status, "limit": limit, "cursor": cursor})

    def get_shipment(self, shipment_id: str) -> dict:
        return self._call("GET", f"/shipments/{shipment_id}")

    def pick(self, shipment_id: str) -> dict:
        return self._call("POST", f"/shipments/{shipment_id}/pick", retry=True)

    def pack(self, shipment_id: str) -> dict:
        return self._call("POST", f"/shipments/{shipment_id}/pack", retry=True)

    def ship_shipment(self, shipment_id: str, carrier: str | None = None, tracking: str | None = None,
                      lines: Mapping[str, int] | None = None) -> dict:
        """Ship the shipment; ``lines`` ({sku: units}) less than it holds is a partial shipment."""
        body: dict[str, Any] = {k: v for k, v in (("carrier", carrier), ("tracking", tracking)) if v is not None}
        if lines is not None:
            body["lines"] = [{"sku": sku, "quantity": units} for sku, units in lines.items()]
        return self._call("POST", f"/shipments/{shipment_id}/ship", json=body or None, retry=True)

    def deliver_shipment(self, shipment_id: str) -> dict:
        return self._call("POST", f"/shipments/{shipment_id}/deliver", retry=True)

    def get_stock(self, sku: str) -> dict:
        return self._call("GET", f"/stock/{sku}")

    # ------------------------------------------------------------------ orders
    def submit_order(self, customer_id: str, lines: Iterable[Mapping[str, Any]], idempotency_key: str | None = None,
                     channel: str | None = None, *, shipping_address: Mapping[str, Any] | None,
                     fulfilment_policy: str | None = None) -> tuple[int, dict]:
        """POST /orders. Returns ``(status_code, body)`` without raising, so 4xx answers can be inspected.
        ``shipping_address`` None sends none (the API answers 422); ``fulfilment_policy`` None: the default."""
        body: dict[str, Any] = {"customer_id": customer_id,
                                "lines": [{"sku": li["sku"], "quantity": li["quantity"]} for li in lines]}
        if shipping_address is not None:
            body["shipping_address"] = dict(shipping_address)
        if channel is not None:
            body["channel"] = channel
        if fulfilment_policy is not None:
            body["fulfilment_policy"] = fulfilment_policy
        response = self.request("POST", "/orders", json=body,
                                headers={"Idempotency-Key": idempotency_key or str(uuid.uuid4())})
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": {"code": f"HTTP_{response.status_code}", "message": response.text[:300],
                                 "details": {}}}
        return response.status_code, payload

    def get_order(self, order_id: str) -> dict:
        return self._call("GET", f"/orders/{order_id}")

    def list_orders(self, customer_id: str, limit: int | None = None, cursor: str | None = None) -> dict:
        return self._call("GET", "/orders", params={"customer_id": customer_id, "limit": limit, "cursor": cursor})

    def list_all_orders(self, customer_id: str, page_size: int = 100) -> list[dict]:
        """Every order of a customer, following ``next_cursor``."""
        orders: list[dict] = []
        cursor: str | None = None
        while True:
            page = self.list_orders(customer_id, limit=page_size, cursor=cursor)
            orders += page["orders"]
            cursor = page.get("next_cursor")
            if not cursor:
                return orders

    def cancel(self, order_id: str, reason: str | None = None, lines: Mapping[str, int] | None = None,
               idempotency_key: str | None = None) -> dict:
        """The whole order, or ``lines`` (SKU → units) of it: then under an Idempotency-Key (a new one unless
        given), so the retries this client makes cancel nothing twice."""
        body: dict[str, Any] = {"reason": reason} if reason else {}
        headers = None
        if lines is not None:
            body["lines"] = [{"sku": sku, "quantity": units} for sku, units in lines.items()]
            headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        return self._call("POST", f"/orders/{order_id}/cancel", json=body or None, headers=headers, retry=True)

    def ship(self, order_id: str, carrier: str | None = None, tracking: str | None = None) -> dict:
        body = {k: v for k, v in (("carrier", carrier), ("tracking", tracking)) if v is not None}
        return self._call("POST", f"/orders/{order_id}/ship", json=body or None, retry=True)

    def deliver(self, order_id: str) -> dict:
        return self._call("POST", f"/orders/{order_id}/deliver", retry=True)

    def wait_for_status(self, order_id: str, statuses: str | Iterable[str], timeout: float = 30,
                        interval: float = 0.05) -> dict:
        """Poll GET /orders/{id} until its status is one of ``statuses``; returns the order.

        Raises :class:`WaitTimeout` after ``timeout`` seconds, or at once when the order reached a
        final status that is not wanted (it will never move again).
        """
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        delay = interval
        order: dict | None = None
        while True:
            order = self.get_order(order_id)
            status = order.get("status")
            if status in wanted:
                return order
            if status in FINAL_STATUSES or time.monotonic() >= deadline:
                raise WaitTimeout(order_id, wanted, order, timeout)
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.5)

    # ------------------------------------------------------------------ suppliers and purchase orders
    def put_supplier(self, supplier_id: str, name: str, capacity_per_cycle: int | None = None,
                     active: bool | None = None, approval_threshold: float | None = None,
                     reply_principal: str | None = None) -> dict:
        optional = {"capacity_per_cycle": capacity_per_cycle, "active": active,
                    "approval_threshold": approval_threshold, "reply_principal": reply_principal}
        return self._call("PUT", f"/suppliers/{supplier_id}",
                          json={"name": name, **{k: v for k, v in optional.items() if v is not None}})

    def get_supplier(self, supplier_id: str) -> dict:
        return self._call("GET", f"/suppliers/{supplier_id}")

    def list_purchase_orders(self, status: str | None = None, limit: int | None = None,
                             cursor: str | None = None) -> dict:
        """``{"purchase_orders": [...], "next_cursor"}``, newest first."""
        return self._call("GET", "/purchase-orders", params={"status": status, "limit": limit, "cursor": cursor})

    def get_purchase_order(self, po_id: str) -> dict:
        return self._call("GET", f"/purchase-orders/{po_id}")

    def create_purchase_order(self, supplier_id: str, lines: Iterable[Mapping[str, Any]],
                              idempotency_key: str | None = None, **optional: Any) -> dict:
        """A purchase order made by hand: SENT, or PENDING_APPROVAL above the approval threshold."""
        body = {"supplier_id": supplier_id, "lines": list(lines),
                **{k: v for k, v in optional.items() if v is not None}}
        return self._call("POST", "/purchase-orders", json=body,
                          headers={"Idempotency-Key": idempotency_key or uuid.uuid4().hex})

    def approve_purchase_order(self, po_id: str) -> dict:
        return self._call("POST", f"/purchase-orders/{po_id}/approve")

    def cancel_purchase_order(self, po_id: str, reason: str | None = None) -> dict:
        return self._call("POST", f"/purchase-orders/{po_id}/cancel", json={"reason": reason} if reason else {})

    # ------------------------------------------------------------------ KPIs
    def kpis(self, first: str | None = None, last: str | None = None, location_id: str | None = None) -> dict:
        """The live KPIs of the UTC days ``first`` to ``last`` (default the last 7)."""
        return self._call("GET", "/kpis", params={"from": first, "to": last, "location_id": location_id})

    # ------------------------------------------------------------------ alerts
    def list_alerts(self, since: str | None = None, limit: int | None = None) -> dict:
        """``{"alerts": [...], "next_since"}``: the alerts told after ``since`` (default the last day), oldest first."""
        return self._call("GET", "/alerts", params={"since": since, "limit": limit})

    # ------------------------------------------------------------------ replenishment and demand history
    def start_replenishment_run(self, note: str | None = None) -> dict:
        """Start a run now (answered 202 while it runs); each call starts another run."""
        return self._call("POST", "/replenishment/runs", json={"note": note} if note else {})

    def list_replenishment_runs(self, limit: int | None = None) -> dict:
        """``{"runs": [...]}``, newest first."""
        return self._call("GET", "/replenishment/runs", params={"limit": limit})

    def get_replenishment_run(self, run_id: str, page_size: int | None = None) -> dict:
        """The run with all its per-SKU ``decisions`` (following ``next_cursor`` page by page)."""
        run = self._call("GET", f"/replenishment/runs/{run_id}", params={"limit": page_size})
        decisions = list(run.get("decisions") or [])
        while run.get("next_cursor"):
            run = self._call("GET", f"/replenishment/runs/{run_id}",
                             params={"limit": page_size, "cursor": run["next_cursor"]})
            decisions += run.get("decisions") or []
        return {**run, "decisions": decisions, "next_cursor": None}

    def wait_for_run(self, run_id: str, timeout: float = 120, interval: float = 0.1) -> dict:
        """Poll until the run is COMPLETED or FAILED; returns it with its decisions. The run is recorded
        by the workflow's first step, so a run started a moment ago may not be found yet: that is waited out."""
        deadline = time.monotonic() + timeout
        delay = interval
        while True:
            try:
                run = self.get_replenishment_run(run_id)
            except ApiError as exc:
                if exc.status != 404 or time.monotonic() >= deadline:
                    raise
                run = {"status": "NOT_STARTED"}
            if run.get("status") in RUN_FINAL_STATUSES:
                return run
            if time.monotonic() >= deadline:
                raise RunWaitTimeout(run_id, run.get("status"), timeout)
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 1.0)

    # ------------------------------------------------------------------ policy simulations
    def start_simulation(self, config: Mapping[str, Any], idempotency_key: str | None = None) -> dict:
        """Request a simulation (answered 202 while it runs): the replay's parameters (``days``, ``seed``,
        ``policies``, ``targets``, ``refit_every``) and optionally ``skus``. With an ``idempotency_key``
        a retry returns the first simulation and a dropped connection is retried."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._call("POST", "/replenishment/simulations", json=dict(config), headers=headers)

    def get_simulation(self, simulation_id: str) -> dict:
        """The request, its status, and the ``result`` once COMPLETED (``error`` if FAILED), ``skipped``."""
        return self._call("GET", f"/replenishment/simulations/{simulation_id}")

    def wait_for_simulation(self, simulation_id: str, timeout: float = 900, interval: float = 0.2) -> dict:
        """Poll until the simulation is COMPLETED or FAILED and return it."""
        deadline = time.monotonic() + timeout
        delay = interval
        while (simulation := self.get_simulation(simulation_id))["status"] not in RUN_FINAL_STATUSES:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"simulation {simulation_id} is still {simulation['status']} after {timeout:g} s")
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 2.0)
        return simulation

    def import_history(self, rows: list[Mapping[str, Any]]) -> dict:
        """POST up to 500 ``{"sku", "day", "quantity"}`` rows; ``{"imported", "skipped": [{"row", "sku",
        "problem"}]}``. Importing the same rows again changes nothing, so a dropped connection is retried."""
        return self._call("POST", "/demand/history", json={"rows": list(rows)}, retry=True)

    def demand_history(self, sku: str, start: str | None = None, end: str | None = None,
                       location_id: str | None = None) -> dict:
        """``{"sku", "history": [{"day", "quantity"}, ...]}`` for the days in ``[start, end]``: over every
        location, or at ``location_id``."""
        return self._call("GET", f"/demand/{sku}", params={"start": start, "end": end, "location_id": location_id})


RUN_FINAL_STATUSES = frozenset({"COMPLETED", "FAILED"})


class RunWaitTimeout(TimeoutError):
    """A replenishment run was still going when the wait ended."""

    def __init__(self, run_id: str, status: str | None, timeout: float):
        self.run_id = run_id
        self.status = status
        super().__init__(f"replenishment run {run_id} is still {status} after {timeout:g} s "
                         f"(`orderflow runs {run_id}` shows it later)")
