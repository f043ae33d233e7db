"""Checks of template.yaml and of its state machine definitions that a user would notice.

These read files only (no AWS, no moto); they run in `make test` after `make lint`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def _load_check_asl():
    spec = importlib.util.spec_from_file_location("check_asl", ROOT / "scripts" / "check_asl.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_asl", module)
    spec.loader.exec_module(module)
    return module


check_asl = _load_check_asl()


@pytest.fixture(scope="module")
def template() -> dict:
    return check_asl.load_template(TEMPLATE)


def _resources(template: dict, rtype: str) -> dict[str, dict]:
    return {
        name: (res.get("Properties") or {})
        for name, res in (template.get("Resources") or {}).items()
        if isinstance(res, dict) and res.get("Type") == rtype
    }


# ---------------------------------------------------------------- ASL check: passes on the real thing
def test_asl_check_passes_on_real_template():
    errors = check_asl.check_template(TEMPLATE)
    assert errors == [], "\n".join(errors)


def test_template_has_state_machines(template):
    assert _resources(template, "AWS::Serverless::StateMachine"), (
        "no AWS::Serverless::StateMachine in template.yaml"
    )


# ---------------------------------------------------------------- ASL check: fails on broken definitions
FIXTURE_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  RetryIntervalSeconds: {Type: Number, Default: 2}
Resources:
  StepFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fn/, Handler: app.handler, Runtime: python3.12}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        StepFunctionArn: !GetAtt StepFunction.Arn
        RetryIntervalSeconds: !Ref RetryIntervalSeconds
%(extra)s
"""

GOOD_DEFINITION = """\
{
  "StartAt": "Step",
  "States": {
    "Step": {
      "Type": "Task",
      "Resource": "${StepFunctionArn}",
      "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": ${RetryIntervalSeconds}}],
      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
      "Next": "Choose"
    },
    "Choose": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Done"}],
      "Default": "Failed"
    },
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "Boom"}
  }
}
"""


def _run_fixture(tmp_path: Path, definition: str, extra_substitutions: str = "") -> list[str]:
    (tmp_path / "template.yaml").write_text(FIXTURE_TEMPLATE % {"extra": extra_substitutions})
    (tmp_path / "machine.asl.json").write_text(definition)
    return check_asl.check_template(tmp_path / "template.yaml")


def test_fixture_good_definition_passes(tmp_path):
    assert _run_fixture(tmp_path, GOOD_DEFINITION) == []


def test_numeric_substitution_goes_in_unquoted():
    subs = {
        "StepFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:F",
        "RetryIntervalSeconds": "1",
    }
    resolved = json.loads(check_asl.substitute(GOOD_DEFINITION, subs))
    assert resolved["States"]["Step"]["Retry"][0]["IntervalSeconds"] == 1


def test_missing_next_target_fails(tmp_path):
    broken = GOOD_DEFINITION.replace('"Next": "Choose"', '"Next": "Chose"')
    errors = _run_fixture(tmp_path, broken)
    assert any("'Chose'" in e and "not a state" in e for e in errors), errors
    # and Choose, no longer reached, is reported too
    assert any("'Choose' is not reachable" in e for e in errors), errors


def test_unused_substitution_fails(tmp_path):
    errors = _run_fixture(tmp_path, GOOD_DEFINITION, "        UnusedQueueUrl: https://example.invalid/q")
    assert any("'UnusedQueueUrl' is never used" in e for e in errors), errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('"StartAt": "Step"', '"StartAt": "Nope"'), "StartAt 'Nope' is not a state"),
        (('"Default": "Failed"', '"Default": "Gone"'), "Default -> 'Gone'"),
        (
            (
                '"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]',
                '"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Missing"}]',
            ),
            "Catch[0].Next -> 'Missing'",
        ),
        (('"Next": "Done"}]', '"Next": "Nowhere"}]'), "Choices[0].Next -> 'Nowhere'"),
        (
            ('"Resource": "${StepFunctionArn}",', '"Comment": "${StepFunctionArn}",'),
            "Task without 'Resource'",
        ),
        (('"Type": "Succeed"', '"Type": "Succeeded"'), "unknown Type 'Succeeded'"),
        (('"StartAt": "Step",', '"StartAt": "Step", "QueryLanguage": "JSONata",'), "QueryLanguage"),
        (('"Next": "Choose"', '"Next": "Choose", "Assign": {"x": 1}'), "uses 'Assign'"),
        (
            (
                '"Resource": "${StepFunctionArn}",',
                '"Resource": "${StepFunctionArn}", "Arguments": "{% $states.input %}",',
            ),
            "JSONata expression",
        ),
        (
            (
                '"Resource": "${StepFunctionArn}",',
                '"Resource": "${OtherFunctionArn}", "Comment": "${StepFunctionArn}",',
            ),
            "placeholder ${OtherFunctionArn} has no entry",
        ),
        (
            (
                '"IntervalSeconds": ${RetryIntervalSeconds}',
                '"IntervalSeconds": ${RetryIntervalSeconds},,',
            ),
            "not valid JSON after substitution",
        ),
        (
            (
                '"Done": {"Type": "Succeed"},',
                '"Done": {"Type": "Succeed"}, "Orphan": {"Type": "Pass", "End": true},',
            ),
            "'Orphan' is not reachable",
        ),
        (('"Next": "Choose"', '"End": true, "Next": "Choose"'), "exactly one of 'Next' or 'End'"),
    ],
)
def test_broken_definitions_fail(tmp_path, change, expected):
    old, new = change
    assert old in GOOD_DEFINITION
    errors = _run_fixture(tmp_path, GOOD_DEFINITION.replace(old, new, 1))
    assert any(expected in e for e in errors), errors


def test_cli_exits_nonzero_on_broken_definition(tmp_path, capsys):
    _run_fixture(tmp_path, GOOD_DEFINITION.replace('"Next": "Choose"', '"Next": "Chose"'))
    assert check_asl.main([str(tmp_path / "template.yaml")]) == 1
    assert "'Chose'" in capsys.readouterr().err


def test_nested_scopes_are_checked(tmp_path):
    definition = """{
      "StartAt": "Fan",
      "States": {
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "End": true,
                "ItemProcessor": {"StartAt": "One", "States": {
                  "One": {"Type": "Task", "Resource": "${StepFunctionArn}", "Next": "Elsewhere"}}},
                "Retry": [{"ErrorEquals": ["X"], "IntervalSeconds": ${RetryIntervalSeconds}}]}
      }
    }"""
    errors = _run_fixture(tmp_path, definition)
    assert any("Fan.ItemProcessor" in e and "'Elsewhere'" in e for e in errors), errors


# ---------------------------------------------------------------- template sanity
def test_tables_are_on_demand_with_pitr_and_sse(template):
    tables = _resources(template, "AWS::DynamoDB::Table")
    assert tables, "no AWS::DynamoDB::Table in template.yaml"
    problems = []
    for name, props in tables.items():
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(f"{name}: BillingMode is {props.get('BillingMode')!r}, not PAY_PER_REQUEST")
        pitr = props.get("PointInTimeRecoverySpecification") or {}
        if pitr.get("PointInTimeRecoveryEnabled") is not True:
            problems.append(
                f"{name}: PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled is not true"
            )
        sse = props.get("SSESpecification") or {}
        if sse.get("SSEEnabled") is not True:
            problems.append(f"{name}: SSESpecification.SSEEnabled is not true")
    assert not problems, "\n".join(problems)


def _function_props(template: dict) -> dict[str, dict]:
    glob = (template.get("Globals") or {}).get("Function") or {}
    return {
        name: {**glob, **props}
        for name, props in _resources(template, "AWS::Serverless::Function").items()
    }


def test_every_function_handler_module_exists(template):
    functions = _function_props(template)
    assert functions, "no AWS::Serverless::Function in template.yaml"
    missing = []
    for name, props in functions.items():
        code_uri, handler = props.get("CodeUri"), props.get("Handler")
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            missing.append(
                f"{name}: CodeUri {code_uri!r} / Handler {handler!r} is not a local dir + module.function"
            )
            continue
        module = handler.rsplit(".", 1)[0]
        base = ROOT / code_uri / Path(*module.split("."))
        candidates = [base.with_suffix(".py"), base / "__init__.py"]
        if not any(c.is_file() for c in candidates):
            missing.append(
                f"{name}: Handler {handler} needs {candidates[0].relative_to(ROOT)}, which does not exist"
            )
    assert not missing, "\n".join(missing)


def test_runtime_is_python312(template):
    glob = (template.get("Globals") or {}).get("Function") or {}
    assert glob.get("Runtime") == "python3.12"
    for name, props in _function_props(template).items():
        assert props.get("Runtime") == "python3.12", (
            f"{name} overrides Runtime to {props.get('Runtime')!r}"
        )
    for name, props in _resources(template, "AWS::Serverless::LayerVersion").items():
        assert "python3.12" in (props.get("CompatibleRuntimes") or []), (
            f"{name}: CompatibleRuntimes lacks python3.12"
        )


@pytest.mark.parametrize("function", ["ReplenishDecideFunction", "PurchasingApiFunction", "ExpireOrdersFunction"])
def test_the_functions_that_work_per_location_may_read_the_locations(template, function):
    """The Decide step reads which locations a SKU is bought for, purchasing by hand and history imports
    check the location named (docs/replenishment.md §5), and the orders' sweep reads every location's late
    shipments (docs/fulfilment.md): without the grant they fail on AWS with AccessDenied, which the offline stack
    (no IAM) would not show."""
    policies = _function_props(template)[function].get("Policies") or []
    tables = {repr(table.get("TableName")) for policy in policies if isinstance(policy, dict)
              for kind, table in policy.items() if kind in ("DynamoDBReadPolicy", "DynamoDBCrudPolicy")}
    assert "!Ref 'LocationsTable'" in tables


def test_the_warehouse_api_may_write_what_shipping_a_shipment_commits(template):
    """Shipping a shipment commits the order, the shipment and the stock it leaves in one transaction (and sources
    what was not sent again: the locations are read, waits written to the stock table), and the warehouse API puts
    locations: without these grants each fails on AWS with AccessDenied, which the offline stack (no IAM) would
    not show."""
    policies = _function_props(template)["WarehouseApiFunction"].get("Policies") or []
    crud = {repr(table.get("TableName")) for policy in policies if isinstance(policy, dict)
            for kind, table in policy.items() if kind == "DynamoDBCrudPolicy"}
    assert {f"!Ref '{name}'" for name in ("OrdersTable", "ShipmentsTable", "StockTable", "LocationsTable")} <= crud
