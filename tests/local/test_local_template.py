"""Reading and resolving templates (no AWS, no moto)."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest

from orderflow_local.http_api import build_routes
from orderflow_local.resources import render_definition
from orderflow_local.runtime import process_environment
from orderflow_local.template import Template, TemplateError, load_template, merge_globals

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "stack" / "template.yaml"


def _load(tmp_path: Path, body: str, **kwargs) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(body))
    return load_template(path, **kwargs)


def test_real_template_resolves_completely() -> None:
    template = load_template(ROOT / "template.yaml")
    assert template.tables and template.event_buses and template.functions and template.state_machines
    for fn in template.functions:
        assert fn.code_dir.is_dir(), fn.code_dir
    routes = build_routes(template)
    assert any(r.route_key == "POST /orders" for r in routes)
    for machine in template.state_machines:
        assert machine.definition_path.is_file()
        assert "${" not in json.dumps(render_definition(machine))
    process_environment(template, "http://127.0.0.1:1")  # functions agree on shared variables
    assert "${" not in json.dumps([asdict(x) for x in template.tables + template.functions], default=str)


def test_fixture_template_model() -> None:
    template = load_template(FIXTURE_TEMPLATE, {"Stage": "ci"})
    assert [t.name for t in template.tables] == ["fixture-items-ci"]
    assert template.event_buses[0].arn == "arn:aws:events:us-east-1:123456789012:event-bus/fixture-ci"
    dlq, jobs = template.queues
    assert dlq.name == "orderflow-JobsDeadLetterQueue"
    assert jobs.properties["RedrivePolicy"]["deadLetterTargetArn"] == dlq.arn
    api = template.function("ApiFunction")
    assert api.code_dir == FIXTURE_TEMPLATE.parent / "api"
    assert (api.handler_module, api.handler_function) == ("app", "handler")
    assert (api.timeout, api.memory_size, api.runtime) == (10, 256, "python3.12")
    assert api.environment == {
        "ITEMS_TABLE": "fixture-items-ci",
        "STAGE": "ci",
        "WORK_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:fixture-work-ci",
        "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/orderflow-JobsQueue",
    }
    assert {(e.method, e.path) for e in api.http_events} >= {("PUT", "/items/{id}"), ("ANY", "/echo/{name}")}
    consumer = template.function("ConsumerFunction")
    (sqs,) = consumer.sqs_events
    assert (sqs.queue_arn, sqs.batch_size, sqs.function_response_types) == (
        jobs.arn,
        5,
        ["ReportBatchItemFailures"],
    )
    tick = template.function("TickFunction")
    assert [(s.expression, s.enabled) for s in tick.schedules] == [
        ("rate(1 minute)", True),
        ("cron(0 2 * * ? *)", False),
    ]
    machine = template.state_machine("WorkStateMachine")
    assert machine.substitutions["StepOneArn"] == template.function("StepOneFunction").arn
    assert machine.substitutions["RetryIntervalSeconds"] == "30"
    definition = render_definition(machine)
    assert definition["States"]["StepOne"]["Retry"][0]["IntervalSeconds"] == 30  # substituted unquoted


def test_short_tags_sub_getatt_and_pseudo_parameters(tmp_path: Path) -> None:
    template = _load(
        tmp_path,
        """
        Parameters:
          Stage: {Type: String, Default: dev}
        Resources:
          Bus:
            Type: AWS::Events::EventBus
            Properties: {Name: !Sub "bus-${Stage}-${AWS::Region}-${AWS::AccountId}"}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Environment:
                Variables:
                  BUS_ARN: !GetAtt Bus.Arn
                  BUS_NAME: !GetAtt [Bus, Name]
                  MAPPED: !Sub ["${Greeting}, ${AWS::StackName} (${Fn.Arn})", {Greeting: hello}]
                  LITERAL: !Sub "${!NotAVariable}-${AWS::Partition}.${AWS::URLSuffix}"
                  JOINED: !Join [":", [a, !Ref Stage, !Select [1, !Split [",", "x,y,z"]]]]
                  FLAG: true
                  NUMBER: 5
        """,
        stack_name="demo",
    )
    (fn,) = template.functions
    assert fn.name == "demo-Fn"
    assert fn.environment == {
        "BUS_ARN": "arn:aws:events:us-east-1:123456789012:event-bus/bus-dev-us-east-1-123456789012",
        "BUS_NAME": "bus-dev-us-east-1-123456789012",
        "MAPPED": "hello, demo (arn:aws:lambda:us-east-1:123456789012:function:demo-Fn)",
        "LITERAL": "${NotAVariable}-aws.amazonaws.com",
        "JOINED": "a:dev:y",
        "FLAG": "true",
        "NUMBER": "5",
    }


def test_globals_merge_like_sam() -> None:
    merged = merge_globals(
        {"Timeout": 15, "Layers": ["a"], "Environment": {"Variables": {"A": "1", "B": "1"}}},
        {"Timeout": 30, "Layers": ["b"], "Environment": {"Variables": {"B": "2", "C": "3"}}},
    )
    assert merged == {"Timeout": 30, "Layers": ["a", "b"], "Environment": {"Variables": {"A": "1", "B": "2", "C": "3"}}}


def test_parameters_overrides_and_their_checks(tmp_path: Path) -> None:
    body = """
        Parameters:
          Level: {Type: String, Default: INFO, AllowedValues: [INFO, DEBUG]}
          Needed: {Type: Number}
        Resources:
          Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Sub "b-${Level}-${Needed}"}}
        """
    assert _load(tmp_path, body, parameter_overrides={"Needed": 3}).event_buses[0].name == "b-INFO-3"
    with pytest.raises(TemplateError, match="no Default"):
        _load(tmp_path, body)
    with pytest.raises(TemplateError, match="not declared"):
        _load(tmp_path, body, parameter_overrides={"Needed": 1, "Typo": 1})
    with pytest.raises(TemplateError, match="not one of"):
        _load(tmp_path, body, parameter_overrides={"Needed": 1, "Level": "TRACE"})


def test_conditions_if_and_no_value(tmp_path: Path) -> None:
    body = """
        Parameters:
          Stage: {Type: String, Default: dev}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          NotProd: !Not [!Condition IsProd]
        Resources:
          ProdOnly: {Type: AWS::SQS::Queue, Condition: IsProd}
          Queue:
            Type: AWS::SQS::Queue
            Properties:
              FifoQueue: !If [NotProd, true, !Ref AWS::NoValue]
              DelaySeconds: !If [IsProd, 0, !Ref AWS::NoValue]
        """
    dev = _load(tmp_path, body)
    assert [q.logical_id for q in dev.queues] == ["Queue"]
    assert dev.queues[0].properties == {"FifoQueue": True}
    assert dev.queues[0].name == "orderflow-Queue.fifo"
    prod = _load(tmp_path, body, parameter_overrides={"Stage": "prod"})
    assert [q.logical_id for q in prod.queues] == ["ProdOnly", "Queue"]
    assert prod.queues[1].properties == {"DelaySeconds": 0}


def test_unknown_reference_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="Missing"):
        _load(tmp_path, "Resources:\n  Bus: {Type: AWS::Events::EventBus, Properties: {Name: !Ref Missing}}\n")


def test_missing_definition_substitution_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "sm.asl.json").write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": ${Pause}, "End": true}}}'
    )
    template = _load(
        tmp_path,
        """
        Resources:
          Machine:
            Type: AWS::Serverless::StateMachine
            Properties: {DefinitionUri: sm.asl.json, DefinitionSubstitutions: {Other: 1}}
        """,
    )
    with pytest.raises(TemplateError, match=r"\['Pause'\]"):
        render_definition(template.state_machines[0])
