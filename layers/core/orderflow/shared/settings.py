"""Configuration read once from the environment (the template sets it per function)."""

import os
from decimal import Decimal
from functools import lru_cache


class Settings:
    """Each field is read from the environment variable of its name in capitals, as pydantic-settings
    would (arguments win; an unknown argument is a TypeError). A plain class, not a pydantic model: every
    function builds it at import, and a model's validator for these fields cost each cold start about 2 ms
    (pydantic-settings, about 30 ms); the values are the template's, and each is an int, a Decimal or a string."""

    orders_table: str = "orders"
    stock_table: str = "stock"
    customers_table: str = "customers"
    products_table: str = "products"
    demand_table: str = "demand"
    returns_table: str = "returns"
    return_window_days: int = 30
    backorder_timeout_seconds: int = 14 * 86400  # a backordered order fails when no stock came within this
    fulfilment_timeout_seconds: int = 30 * 86400  # a reserved order fails when not shipped within this
    # a PENDING, VALIDATED or CREDIT_APPROVED order fails (its holds given back) when its workflow has not
    # moved it on within this: the execution was lost (an Express execution lives at most 5 minutes)
    workflow_timeout_seconds: int = 10 * 60
    event_bus_name: str = "default"
    order_state_machine_arn: str | None = None
    idempotency_table: str | None = None
    idempotency_expiry_seconds: int = 86400
    max_body_bytes: int = 64 * 1024
    customer_id_claim: str = "customer_id"  # the token claim naming the customer a customer token acts for
    suppliers_table: str = "suppliers"
    purchase_orders_table: str = "purchase-orders"
    replenishment_table: str = "replenishment"
    replenishment_state_machine_arn: str | None = None
    replenishment_batch_size: int = 1000
    supplier_replies_queue_url: str | None = None
    stock_arrivals_queue_url: str | None = None
    supplier_queue_prefix: str = "orderflow-po-"
    # A purchase order worth more than this (a supplier's own approval_threshold wins) waits for approval
    # for at most purchase_approval_hours, then is cancelled and the next run decides again.
    purchase_approval_threshold: Decimal = Decimal("10000")
    purchase_approval_hours: int = 72
    # Deadlines the replenishment sweep enforces: a run still RUNNING this long after it started is FAILED
    # (its execution was lost or stopped), and a purchase order the supplier has not shipped this many days
    # after the day it was expected is cancelled (the supplier is told; the next run decides again).
    replenishment_run_timeout_seconds: int = 4 * 3600
    purchase_order_grace_days: int = 14
    alerts_table: str = "alerts"
    alerts_topic_arn: str | None = None
    alert_repeat_minutes: int = 60  # one alert per subject per this many minutes
    alert_check_seconds: int = 3600  # how often the periodic check looks (its schedule, AlertCheckSchedule)
    console_url: str | None = None  # where an alert's link points (none: no link)
    kpis_table: str = "kpis"
    kpi_promise_hours: int = 48  # an order shipped within this many hours of its creation is on time
    dead_letter_queue_urls: str = ""  # the stack's DLQs, comma-separated: the check alerts on any not empty
    simulations_table: str = "simulations"
    locations_table: str = "locations"
    shipments_table: str = "shipments"
    simulation_state_machine_arn: str | None = None

    def __init__(self, **values: object) -> None:
        fields = type(self).__annotations__
        if unknown := values.keys() - fields:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        env = {key.lower(): value for key, value in os.environ.items()}
        for name, kind in fields.items():
            if name in values:
                value = values[name]
            elif name in env:
                value = env[name]
            else:
                continue  # the class attribute's default
            convert = kind if kind in (int, Decimal) else str
            try:
                setattr(self, name, value if value is None else convert(value))
            except (ValueError, ArithmeticError):
                raise ValueError(f"setting {name.upper()} must be {convert.__name__}, not {value!r}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
