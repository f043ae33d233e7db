"""The cost model behind BENCHMARKS.md §4 (benchmarks/cost.py), against numbers worked out by hand.

Pure arithmetic: no stack, no timing.
"""

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks.cost import (
    FLOOR,
    GB,
    PRICES,
    Usage,
    burst_calls,
    cost_per_1000,
    express_gb_seconds,
    fixed_monthly,
    floor_usage,
    lambda_gb_seconds,
    negligible_from,
    usage_as_built,
    usage_measured,
    usage_standard_design,
)


def test_prices_are_the_dated_us_east_1_list_prices():
    assert PRICES["sfn_standard_per_transition"] == pytest.approx(0.000025)
    assert PRICES["dynamodb_per_wru"] == pytest.approx(0.625e-6)  # since November 2024
    assert PRICES["dynamodb_per_rru"] == pytest.approx(0.125e-6)
    assert PRICES["lambda_per_gb_second"] == pytest.approx(0.0000166667)


def test_every_line_item_per_1000_orders():
    usage = Usage(http_requests=3, lambda_requests=10, lambda_gb_seconds=0.2, dynamodb_wru=20, dynamodb_rru=10,
                  sfn_standard_transitions=7, eventbridge_events=4, log_bytes=GB / 1000, xray_traces=0.5)

    cost = cost_per_1000(usage)

    assert cost["Step Functions Standard (transitions)"] == pytest.approx(0.175)  # 7,000 × $0.025/1,000
    assert cost["Step Functions Express (requests)"] == 0
    assert cost["Step Functions Express (duration)"] == 0
    assert cost["Lambda (requests)"] == pytest.approx(0.002)  # 10,000 × $0.20/M
    assert cost["Lambda (duration)"] == pytest.approx(0.00333334)  # 200 GB-s × $0.0000166667
    assert cost["API Gateway HTTP API"] == pytest.approx(0.003)  # 3,000 × $1/M
    assert cost["DynamoDB writes (WRU)"] == pytest.approx(0.0125)  # 20,000 × $0.625/M
    assert cost["DynamoDB reads (RRU)"] == pytest.approx(0.00125)  # 10,000 × $0.125/M
    assert cost["EventBridge events"] == pytest.approx(0.004)  # 4,000 × $1/M
    assert cost["CloudWatch Logs ingestion"] == pytest.approx(0.5)  # 1 GB × $0.50
    assert cost["X-Ray traces"] == pytest.approx(0.0025)  # 500 × $5/M
    assert cost["Total"] == pytest.approx(0.70358334)


def test_four_standard_transitions_alone_use_the_whole_target():
    assert cost_per_1000(Usage(sfn_standard_transitions=4))["Total"] == pytest.approx(0.10)


def test_express_duration_is_billed_in_100_ms_and_64_mb_steps():
    assert express_gb_seconds(230) == pytest.approx(0.3 * 64 / 1024)  # 0.01875
    assert express_gb_seconds(300) == pytest.approx(0.3 * 64 / 1024)
    assert express_gb_seconds(230, memory_mb=100) == pytest.approx(0.3 * 128 / 1024)

    cost = cost_per_1000(Usage(sfn_express_requests=1, sfn_express_gb_seconds=0.01875))
    assert cost["Step Functions Express (requests)"] == pytest.approx(0.001)  # 1,000 × $1/M
    assert cost["Step Functions Express (duration)"] == pytest.approx(0.0003125625)  # 18.75 GB-s × $0.00001667
    assert cost["Total"] == pytest.approx(0.0013125625)


def test_lambda_duration_is_billed_to_the_next_millisecond():
    # A: 2 × ceil(10.2) = 22 ms, B: 1 × 99 ms, at 512 MB: (0.022 + 0.099) × 0.5 GB
    assert lambda_gb_seconds({"A": 2, "B": 1}, {"A": 10.2, "B": 99.0}, memory_mb=512) == pytest.approx(0.0605)


def _measured() -> dict:
    """A calls result shaped like benchmarks.calls.analyse's, with round numbers."""
    return {
        "http_requests": 3,
        "invocations": {"OrderIntakeFunction": 3, "ValidateOrderFunction": 1, "CheckCreditFunction": 1,
                        "ReserveStockFunction": 1, "PublishEventsFunction": 10},
        "durations_ms": {fn: {"mean": ms} for fn, ms in {
            "OrderIntakeFunction": 60, "ValidateOrderFunction": 40, "CheckCreditFunction": 30,
            "ReserveStockFunction": 50, "PublishEventsFunction": 2}.items()},
        "wru": {"median": 25}, "rru": {"median": 9},
        "eventbridge_events": {"median": 4},
        "log_bytes_per_order": 1000,
        "event_bytes": 500,
        "index_wru": {"median": 8},
        "poll": {"invocations": {"OrderIntakeFunction": 1}, "durations_ms": {"mean": 9.2}, "rru": {"median": 2}},
        "deployed": {"access_log_line_bytes": 200},
    }


def test_usage_measured_counts_what_was_measured():
    usage = usage_measured(_measured())

    # Counts only: the GB-seconds follow from measured durations, which belong to the benchmark (the billing
    # steps themselves are checked above on given milliseconds).
    assert usage.lambda_requests == 16
    assert usage.sfn_standard_transitions == 0
    assert usage.sfn_express_requests == 1
    assert (usage.dynamodb_wru, usage.dynamodb_rru) == (25, 9)
    assert usage.log_bytes == 1000 + 16 * 350 + 500
    assert usage.xray_traces == pytest.approx((3 + 1 + 10) * 0.05)
    assert (usage.dynamodb_index_wru, usage.access_log_bytes) == (0, 0)


def test_usage_as_built_adds_index_writes_polls_and_access_logs():
    measured, built = usage_measured(_measured()), usage_as_built(_measured(), polls=1.5)

    assert built.dynamodb_index_wru == 8
    assert built.http_requests == 3 + 1.5
    assert built.lambda_requests == 16 + 1.5
    assert built.dynamodb_rru == 9 + 1.5 * 2
    assert built.log_bytes == measured.log_bytes + 1.5 * 350
    assert built.access_log_bytes == 4.5 * 200
    assert built.xray_traces == pytest.approx(measured.xray_traces + 1.5 * 0.05)
    cost = cost_per_1000(built)
    assert cost["DynamoDB index writes (WRU)"] == pytest.approx(0.005)  # 8,000 × $0.625/M
    assert cost["API access logs"] == pytest.approx(900_000 / GB * 0.50)


def test_fixed_charges_and_the_volume_from_which_they_stop_mattering():
    fixed = fixed_monthly(custom_metrics=20, alarm_metrics=50, dashboards=1)

    assert fixed == pytest.approx({"Custom metrics": 6.0, "Alarms": 5.0, "Dashboards": 3.0, "Total": 14.0})
    # $14 a month is 10 % of the orders' own cost at $0.05 per 1,000 from 2.8 million orders a month
    assert negligible_from(14.0, per_1000=0.05) == pytest.approx(2_800_000)


def test_the_standard_design_pays_its_transitions_instead_of_the_express_execution():
    built, standard = usage_as_built(_measured()), usage_standard_design(_measured())

    assert standard.sfn_standard_transitions == 7
    assert (standard.sfn_express_requests, standard.sfn_express_gb_seconds) == (0, 0)
    assert standard.lambda_requests == built.lambda_requests
    difference = cost_per_1000(standard)["Total"] - cost_per_1000(built)["Total"]
    express = cost_per_1000(built)["Step Functions Express (requests)"] + \
        cost_per_1000(built)["Step Functions Express (duration)"]
    assert difference == pytest.approx(7 * 0.025 - express)


def test_platform_lines_and_consumer_traces_follow_the_template():
    # SystemLogLevel WARN on every function but the publisher; only the KPI consumer traced (Tracing: Active)
    measured = _measured()
    measured["invocations"] = {**measured["invocations"], "KpisFunction": 2}
    measured["durations_ms"] = {**measured["durations_ms"], "KpisFunction": {"mean": 5}}
    measured["deployed"] = {"access_log_line_bytes": 200, "traced": ["KpisFunction", "OrderIntakeFunction"],
                            "platform_log_bytes": {fn: 0 for fn in measured["invocations"]}
                            | {"PublishEventsFunction": 350}}

    usage, built = usage_measured(measured), usage_as_built(measured, polls=1.5)

    assert usage.log_bytes == 1000 + 10 * 350 + 500  # the publisher's 10 invocations only
    assert usage.xray_traces == pytest.approx((3 + 1 + 2) * 0.05)  # the untraced publisher starts none
    assert built.log_bytes == usage.log_bytes  # the poll's function logs no platform lines either


def test_the_burst_row_takes_the_bursts_figures_per_order_and_the_consumers_batch_times():
    # 20 orders at once: the publisher took 5 records an invocation (2 invocations an order), so 8 invocations
    # fewer an order; the burst's own request units, events and log bytes per order are the row's.
    measured = _measured()
    measured["burst"] = {"orders": 20, "invocations": {**measured["invocations"], "PublishEventsFunction": 2},
                         "durations_ms": {"PublishEventsFunction": {"mean": 6}, "OrderIntakeFunction": {"mean": 600}},
                         "wru": 21.5, "rru": 9, "index_wru": 8, "eventbridge_events": 4, "event_bytes": 500,
                         "log_bytes_per_order": 700, "records_per_invocation": {}}

    one_at_a_time, bursting = usage_as_built(measured), usage_as_built(burst_calls(measured))

    assert bursting.lambda_requests == pytest.approx(one_at_a_time.lambda_requests - 8)
    assert (bursting.dynamodb_wru, bursting.dynamodb_index_wru) == (21.5, 8)
    assert bursting.log_bytes == pytest.approx(one_at_a_time.log_bytes - 300 - 8 * 350)
    assert bursting.http_requests == one_at_a_time.http_requests  # the same requests and status polls


def test_the_floor_sums_its_requirements():
    floor = floor_usage()
    assert (floor.http_requests, floor.lambda_requests, floor.sfn_express_requests) == (3, 6, 1)
    assert (floor.dynamodb_wru, floor.dynamodb_index_wru, floor.dynamodb_rru) == (29, 2, 1)
    assert floor.eventbridge_events == 7  # six changes of the order and the shipment's release
    assert cost_per_1000(floor)["Total"] == pytest.approx(sum(cost_per_1000(usage)["Total"] for _, usage in FLOOR))


def test_the_floor_is_no_more_than_what_the_design_as_built_was_measured_to_use():
    # A floor above the measurement would claim more than the design needs: the floor, or the design, is wrong.
    calls = json.loads((Path(__file__).parents[2] / "benchmarks/results/calls.json").read_text())["data"]
    floor = asdict(floor_usage())
    for measured in (usage_as_built(calls), usage_as_built(burst_calls(calls))):
        assert {k: v for k, v in floor.items() if v > getattr(measured, k) + 1e-9} == {}
