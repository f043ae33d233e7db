"""Figure 4: modeled AWS cost per 1,000 orders, at us-east-1 list prices.

:func:`cost_per_1000` is the pure model (unit-tested in tests/unit/test_bench_cost.py): a per-order
:class:`Usage` times :data:`PRICES`. :func:`usage_as_built` builds the usage of the design as built
(docs/architecture.md, Targets: an Express workflow for validate → credit → reserve; shipping and
delivery are the API calls alone) from the ``calls`` results, complete: what the order's own calls use
(:func:`usage_measured`, the whole model before issue 22) plus its index writes, the client's status
polls and the API's access log lines. :func:`usage_standard_design` models the design it replaced (one
Standard workflow per order, parked on task tokens until delivery) on the same measurements.

Free tiers are left out (this is the cost of an order at scale). What is billed by the month whatever
the volume (custom CloudWatch metrics, alarms, the dashboard) is :func:`fixed_monthly`, a line apart
with the volume from which it stops mattering; log storage, PITR and table storage are left out.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# us-east-1 list prices (USD), taken on PRICES_DATE from the providers' public pricing pages (as quoted
# by AWS's pricing pages for Step Functions, Lambda, API Gateway, DynamoDB, EventBridge, CloudWatch and
# X-Ray). DynamoDB on-demand prices are those in force since 1 November 2024 (halved then).
PRICES_DATE = "2026-11-22"
PRICES: dict[str, float] = {
    "sfn_standard_per_transition": 0.025 / 1_000,  # $0.025 per 1,000 state transitions
    "sfn_express_per_request": 1.00 / 1_000_000,  # $1.00 per million executions
    "sfn_express_per_gb_second": 0.00001667,  # first 1,000 GB-hours a month; 100 ms / 64 MB granularity
    "lambda_per_request": 0.20 / 1_000_000,  # $0.20 per million requests
    "lambda_per_gb_second": 0.0000166667,  # x86_64, first 6 billion GB-s a month; 1 ms granularity
    "http_api_per_request": 1.00 / 1_000_000,  # HTTP API, first 300 million a month
    "dynamodb_per_wru": 0.625 / 1_000_000,  # on-demand write request unit
    "dynamodb_per_rru": 0.125 / 1_000_000,  # on-demand read request unit
    "eventbridge_per_event": 1.00 / 1_000_000,  # custom events, per 64 KB chunk
    "logs_per_gb": 0.50,  # CloudWatch Logs ingestion, Standard class (GB = 2**30 bytes here)
    "xray_per_trace": 5.00 / 1_000_000,  # traces recorded
    # By the month, whatever the volume (first tiers; CloudWatch's free 10 metrics, 10 alarms and 3
    # dashboards left out like the other free tiers).
    "cw_custom_metric_month": 0.30,  # per metric (a name and one set of dimension values)
    "cw_alarm_metric_month": 0.10,  # standard resolution, per metric an alarm watches
    "cw_dashboard_month": 3.00,
}
TARGET_PER_1000 = 0.10  # issue 7
GOAL_PER_1000 = 0.03  # issue 22: two-line orders, complete model
GB = 2**30

# Modeling assumptions, each stated where the figure is shown.
LAMBDA_MEMORY_MB = 512  # template.yaml Globals
PLATFORM_LOG_BYTES = 350  # Lambda's START/END/REPORT lines per invocation, unless SystemLogLevel is WARN or ERROR
XRAY_SAMPLING = 0.05  # X-Ray's default rule: 1 request a second, then 5 %; at scale about 5 %
EXPRESS_MEMORY_MB = 64  # a small definition and payload fits the smallest billed chunk
EXPRESS_TASK_OVERHEAD_MS = 30  # Step Functions' own time around each Lambda task (assumed)
EXPRESS_STEPS = ("ValidateOrderFunction", "CheckCreditFunction", "ReserveStockFunction")
# States the Standard workflow this design replaced entered on the happy path (Validate, CheckCredit,
# Reserve, AwaitShipment, AwaitDelivery, Complete, Delivered), counted from its execution history at
# commit d30167d (BENCHMARKS.md §3 then).
STANDARD_TRANSITIONS = 7
STREAM_FUNCTION = "PublishEventsFunction"
# The consumers of streams and queues: a record carries no trace header to them, so an invocation of one that
# is traced (``Tracing: Active``) starts a trace of its own.
CONSUMERS = (STREAM_FUNCTION, "CountDemandFunction", "KpisFunction")
# The client's status polls: GET /orders/{id} per order, the upper end of what the throughput bench's
# clients (polling every 100 ms until RESERVED) made, 1–1.4 (issue 22). Each is measured by ``calls``.
POLLS_PER_ORDER = 1.4
# Fixed charges "stop mattering" when they are at most this share of what the orders cost variably.
FIXED_SHARE = 0.10


@dataclass(frozen=True)
class Usage:
    """What one order uses."""

    http_requests: float = 0
    lambda_requests: float = 0
    lambda_gb_seconds: float = 0
    dynamodb_wru: float = 0
    dynamodb_index_wru: float = 0  # global secondary indexes' writes
    dynamodb_rru: float = 0
    sfn_standard_transitions: float = 0
    sfn_express_requests: float = 0
    sfn_express_gb_seconds: float = 0
    eventbridge_events: float = 0
    log_bytes: float = 0
    access_log_bytes: float = 0  # the HTTP API's access log lines
    xray_traces: float = 0


LINES: dict[str, tuple[str, str]] = {
    # line item: (usage field, price key)
    "Step Functions Standard (transitions)": ("sfn_standard_transitions", "sfn_standard_per_transition"),
    "Step Functions Express (requests)": ("sfn_express_requests", "sfn_express_per_request"),
    "Step Functions Express (duration)": ("sfn_express_gb_seconds", "sfn_express_per_gb_second"),
    "Lambda (requests)": ("lambda_requests", "lambda_per_request"),
    "Lambda (duration)": ("lambda_gb_seconds", "lambda_per_gb_second"),
    "API Gateway HTTP API": ("http_requests", "http_api_per_request"),
    "DynamoDB writes (WRU)": ("dynamodb_wru", "dynamodb_per_wru"),
    "DynamoDB index writes (WRU)": ("dynamodb_index_wru", "dynamodb_per_wru"),
    "DynamoDB reads (RRU)": ("dynamodb_rru", "dynamodb_per_rru"),
    "EventBridge events": ("eventbridge_events", "eventbridge_per_event"),
    "CloudWatch Logs ingestion": ("log_bytes", "logs_per_gb"),
    "API access logs": ("access_log_bytes", "logs_per_gb"),
    "X-Ray traces": ("xray_traces", "xray_per_trace"),
}


def cost_per_1000(usage: Usage, prices: dict[str, float] = PRICES) -> dict[str, float]:
    """USD per 1,000 orders, per line item, plus ``"Total"``."""
    lines: dict[str, float] = {}
    for name, (quantity, price) in LINES.items():
        amount = getattr(usage, quantity)
        if quantity in ("log_bytes", "access_log_bytes"):
            amount /= GB
        lines[name] = 1_000 * amount * prices[price]
    lines["Total"] = sum(lines.values())
    return lines


def lambda_gb_seconds(invocations: dict[str, float], mean_ms: dict[str, float],
                      memory_mb: int = LAMBDA_MEMORY_MB) -> float:
    """GB-seconds of the invocations, each billed to the next whole millisecond."""
    return sum(count * math.ceil(mean_ms[fn]) / 1_000 * memory_mb / 1024 for fn, count in invocations.items())


def express_gb_seconds(duration_ms: float, memory_mb: int = EXPRESS_MEMORY_MB) -> float:
    """One Express execution: duration rounded up to 100 ms, memory up to a 64 MB chunk."""
    billed_ms = math.ceil(duration_ms / 100) * 100
    billed_mb = math.ceil(memory_mb / 64) * 64
    return billed_ms / 1_000 * billed_mb / 1024


# ---------------------------------------------------------------------- usage from the measurements
def _mean_ms(calls: dict[str, Any]) -> dict[str, float]:
    return {fn: s["mean"] for fn, s in calls["durations_ms"].items()}


def usage_measured(calls: dict[str, Any]) -> Usage:
    """The order's own calls as measured by ``calls`` (the model before issue 22 added what follows): one
    Express execution (validate → credit → reserve), its duration the steps' mean handler times plus Step
    Functions' overhead around each."""
    invocations: dict[str, float] = calls["invocations"]
    lambda_requests = sum(invocations.values())
    traced = _deployed(calls)["traced"]
    trace_roots = sum(invocations.get(fn, 0) for fn in CONSUMERS if fn in traced)
    means = _mean_ms(calls)
    return Usage(
        http_requests=calls["http_requests"],
        lambda_requests=lambda_requests,
        lambda_gb_seconds=lambda_gb_seconds(invocations, means),
        dynamodb_wru=calls["wru"]["median"],
        dynamodb_rru=calls["rru"]["median"],
        sfn_express_requests=1,
        sfn_express_gb_seconds=express_gb_seconds(_express_ms(means)),
        eventbridge_events=calls["eventbridge_events"]["median"],
        log_bytes=calls["log_bytes_per_order"] + _platform_log_bytes(calls, invocations) + calls["event_bytes"],
        xray_traces=(calls["http_requests"] + 1 + trace_roots) * XRAY_SAMPLING,
    )


def _deployed(calls: dict[str, Any]) -> dict[str, Any]:
    """What the template says of the functions (``calls.deployed``); a result measured before the template was
    read for it: platform lines everywhere, and the stream publisher the only traced consumer."""
    deployed = calls.get("deployed") or {}
    return {"platform_log_bytes": deployed.get("platform_log_bytes") or {},
            "traced": deployed.get("traced", [STREAM_FUNCTION])}


def _platform_log_bytes(calls: dict[str, Any], invocations: dict[str, float]) -> float:
    """Lambda's START/END/REPORT lines of the invocations, where the function's SystemLogLevel lets them through."""
    platform = _deployed(calls)["platform_log_bytes"]
    return sum(count * platform.get(fn, PLATFORM_LOG_BYTES) for fn, count in invocations.items())


def usage_as_built(calls: dict[str, Any], polls: float = POLLS_PER_ORDER) -> Usage:
    """Complete: :func:`usage_measured` plus the index writes, ``polls`` status polls (each as ``calls``
    measured one: a request, an invocation, its handler time and reads, its platform log lines, its share
    of traces) and one access log line per HTTP request."""
    measured = usage_measured(calls)
    poll = calls["poll"]
    poll_invocations = sum(poll["invocations"].values())
    requests = measured.http_requests + polls
    return Usage(**{
        **asdict(measured),
        "http_requests": requests,
        "lambda_requests": measured.lambda_requests + polls * poll_invocations,
        "lambda_gb_seconds": measured.lambda_gb_seconds + polls * lambda_gb_seconds(
            poll["invocations"], {fn: poll["durations_ms"]["mean"] for fn in poll["invocations"]}),
        "dynamodb_index_wru": calls["index_wru"]["median"],
        "dynamodb_rru": measured.dynamodb_rru + polls * poll["rru"]["median"],
        "log_bytes": measured.log_bytes + polls * _platform_log_bytes(calls, poll["invocations"]),
        "access_log_bytes": requests * calls["deployed"]["access_log_line_bytes"],
        "xray_traces": measured.xray_traces + polls * XRAY_SAMPLING,
    })


def burst_calls(calls: dict[str, Any]) -> dict[str, Any]:
    """``calls`` as its burst measured an order (``calls.burst``: orders submitted, shipped and delivered together,
    so the stream and queue consumers took several records an invocation, as at steady traffic): the burst's
    invocations, request units, events and log bytes per order. Handler times are one-at-a-time's, where the
    machine ran one thing at a time (the burst's wall-clock times grow with its orders sharing 2 cores): the
    request path's as they were, and each consumer's handler time per order kept (its records' work, spread over
    the burst's fewer invocations; a batch also saves per-invocation work, so an upper bound). The status polls
    are one-at-a-time's."""
    b = calls["burst"]
    durations = dict(calls["durations_ms"])
    for fn in CONSUMERS:
        if b["invocations"].get(fn) and fn in durations:
            per_order = calls["invocations"].get(fn, 0) * durations[fn]["mean"]
            durations[fn] = {**durations[fn], "mean": per_order / b["invocations"][fn]}
    return {**calls, "invocations": b["invocations"], "durations_ms": durations, "wru": {"median": b["wru"]},
            "rru": {"median": b["rru"]}, "index_wru": {"median": b["index_wru"]},
            "eventbridge_events": {"median": b["eventbridge_events"]}, "event_bytes": b["event_bytes"],
            "log_bytes_per_order": b["log_bytes_per_order"]}


def fixed_monthly(custom_metrics: int, alarm_metrics: int, dashboards: int,
                  prices: dict[str, float] = PRICES) -> dict[str, float]:
    """USD a month whatever the volume, per line item, plus ``"Total"``."""
    lines = {"Custom metrics": custom_metrics * prices["cw_custom_metric_month"],
             "Alarms": alarm_metrics * prices["cw_alarm_metric_month"],
             "Dashboards": dashboards * prices["cw_dashboard_month"]}
    lines["Total"] = sum(lines.values())
    return lines


def negligible_from(fixed_per_month: float, per_1000: float, share: float = FIXED_SHARE) -> float:
    """Orders a month from which ``fixed_per_month`` is at most ``share`` of the orders' own cost."""
    return fixed_per_month / (share * per_1000 / 1_000)


def usage_standard_design(calls: dict[str, Any]) -> Usage:
    """Modeled: the design this one replaced, one Standard execution per order of
    :data:`STANDARD_TRANSITIONS` transitions and no Express charges, on the same measured usage
    otherwise (a lower bound: it also ran three token-parking and closing invocations more)."""
    built = usage_as_built(calls)
    return Usage(**{**asdict(built), "sfn_express_requests": 0, "sfn_express_gb_seconds": 0,
                    "sfn_standard_transitions": STANDARD_TRANSITIONS})


# The least any design of what the issues ask for uses per 2-line order, from one location, whatever its tables:
# each part is a requirement and the fewest requests, write units and events it can take at list prices. Lambda
# time, logs and traces are left at zero, so the sum is a lower bound (the as-built figures pay them on top).
FLOOR: tuple[tuple[str, Usage], ...] = (
    ("Three API requests (submit, ship, deliver), each one invocation", Usage(http_requests=3, lambda_requests=3)),
    ("The workflow: one Express execution (100 ms at 64 MB) of three steps (validate, check credit, reserve)",
     Usage(sfn_express_requests=1, sfn_express_gb_seconds=express_gb_seconds(100), lambda_requests=3)),
    ("An idempotent submit: one conditional write of the request's key; the catalogue read for prices "
     "(2 products, eventually consistent)", Usage(dynamodb_wru=1, dynamodb_rru=1)),
    ("The order written at each change: created, validated and delivered alone (1 WRU each); credit approved "
     "with the customer's exposure, reserved and shipped with the 2 stock levels, each in one transaction "
     "(2 items = 4 WRU, 3 items = 6, 3 items = 6)", Usage(dynamodb_wru=19)),
    ("A domain event per committed change: created, validated, credit approved, reserved, shipped, delivered",
     Usage(eventbridge_events=6)),
    ("Fulfilment: the shipment a location picks from, its own item in the reserve, ship and deliver transactions "
     "(+2 WRU each)", Usage(dynamodb_wru=6)),
    ("Fulfilment: the location's pick list, an index entry put at release and gone at ship; `ShipmentReleased` "
     "for the warehouse", Usage(dynamodb_index_wru=2, eventbridge_events=1)),
    ("Demand history counted off the ship transaction, from the stream: a mark per shipment in its batch's "
     "transaction (the SKU-month `ADD`s shared with other orders: 0)", Usage(dynamodb_wru=2)),
    ("KPIs: the order's creation remembered for its on-time rate, one conditional put", Usage(dynamodb_wru=1)),
)
FLOOR_SHIPMENT_ITEM = 5  # FLOOR's row of the shipment's own item: what a shipment kept inside the order saves


def floor_usage(parts: tuple[tuple[str, Usage], ...] = FLOOR) -> Usage:
    """The sum of ``parts``' usage."""
    return Usage(**{field: sum(getattr(usage, field) for _, usage in parts) for field in asdict(Usage())})


def _express_ms(means: dict[str, float]) -> float:
    return sum(means[fn] + EXPRESS_TASK_OVERHEAD_MS for fn in EXPRESS_STEPS)


def run(calls: dict[str, Any]) -> dict[str, Any]:
    built, standard, measured = usage_as_built(calls), usage_standard_design(calls), usage_measured(calls)
    means = _mean_ms(calls)
    deployed = calls["deployed"]
    fixed = fixed_monthly(len(calls["custom_metrics"]), deployed["alarm_metrics"], deployed["dashboards"])
    per_1000 = cost_per_1000(built)["Total"]
    result = {
        "prices": PRICES,
        "prices_date": PRICES_DATE,
        "target_per_1000": TARGET_PER_1000,
        "assumptions": {
            "lambda_memory_mb": LAMBDA_MEMORY_MB, "platform_log_bytes": PLATFORM_LOG_BYTES,
            "xray_sampling": XRAY_SAMPLING, "express_memory_mb": EXPRESS_MEMORY_MB,
            "express_task_overhead_ms": EXPRESS_TASK_OVERHEAD_MS,
            "express_duration_ms": _express_ms(means), "standard_transitions": STANDARD_TRANSITIONS,
            "polls_per_order": POLLS_PER_ORDER, "fixed_share": FIXED_SHARE,
            "access_log_line_bytes": deployed["access_log_line_bytes"], "load_average": calls.get("load_average"),
            "platform_logging_functions": sorted(fn for fn, b in _deployed(calls)["platform_log_bytes"].items() if b),
            "traced_consumers": [fn for fn in CONSUMERS if fn in _deployed(calls)["traced"]],
        },
        "as_built": {"usage": asdict(built), "cost": cost_per_1000(built)},
        "measured_only": {"usage": asdict(measured), "cost": cost_per_1000(measured)},
        "fixed": {"custom_metrics": len(calls["custom_metrics"]), "alarm_metrics": deployed["alarm_metrics"],
                  "dashboards": deployed["dashboards"], "cost": fixed,
                  "negligible_from_orders_per_month": negligible_from(fixed["Total"], per_1000)},
        "goal_per_1000": GOAL_PER_1000,
        "standard_design": {"usage": asdict(standard), "cost": cost_per_1000(standard)},
        "floor": {"parts": [{"what": what, "usage": asdict(usage), "cost": cost_per_1000(usage)["Total"]}
                            for what, usage in FLOOR],
                  "cost": cost_per_1000(floor_usage())["Total"],
                  "shipment_in_order_cost": cost_per_1000(floor_usage(
                      FLOOR[:FLOOR_SHIPMENT_ITEM] + FLOOR[FLOOR_SHIPMENT_ITEM + 1:]))["Total"]},
    }
    if "burst" in calls:
        bursting = burst_calls(calls)
        usage, before = usage_as_built(bursting), usage_measured(bursting)
        # the burst spreads each consumer's handler time per order over fewer invocations, each billed to the next
        # ms: it can bill less Lambda time than one order at a time, never more (else the model is wrong)
        if usage.lambda_gb_seconds > built.lambda_gb_seconds + 1e-12:
            raise AssertionError(f"burst bills {usage.lambda_gb_seconds} GB-s an order, one at a time "
                                 f"{built.lambda_gb_seconds}: handler time was added, not spread")
        result["burst"] = {"usage": asdict(usage), "cost": cost_per_1000(usage), "orders": calls["burst"]["orders"],
                           "measured_only": {"usage": asdict(before), "cost": cost_per_1000(before)},
                           "records_per_invocation": calls["burst"]["records_per_invocation"],
                           "invocations": calls["burst"]["invocations"]}
    for kind in ("split", "long"):  # split: two shipments shipped and delivered; long: 5 lines, one location
        if kind in calls:
            usage, before = usage_as_built(calls[kind]), usage_measured(calls[kind])
            result[f"{kind}_lines"] = calls[kind]["lines_per_order"]
            result[kind] = {"usage": asdict(usage), "cost": cost_per_1000(usage),
                            "measured_only": {"usage": asdict(before), "cost": cost_per_1000(before)}}
    return result
