"""Read a SAM template and resolve it into the resources the local stack creates.

The YAML short tags (``!Ref``, ``!Sub``, ``!GetAtt`` ...) become their long
``{"Ref": ...}`` / ``{"Fn::...": ...}`` forms; parameters, pseudo parameters,
``Globals.Function`` and the intrinsic functions are then resolved to the
physical names and ARNs the stack will have in moto.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from orderflow_local.auth import LOCAL_AUDIENCE, LOCAL_ISSUER, Authorizer

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
DEFAULT_STACK_NAME = "orderflow"
LOCAL_API_ID = "local"

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE = object()


class TemplateError(ValueError):
    """The template cannot be resolved for the local stack."""


# --------------------------------------------------------------------------- YAML


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def read_template(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM YAML (or JSON) file into plain long-form dicts."""
    with open(path, encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=_CfnLoader)
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise TemplateError(f"{path}: not a template (no Resources)")
    return doc


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Table:
    logical_id: str
    name: str
    arn: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class EventBus:
    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class Queue:
    logical_id: str
    name: str
    arn: str
    url: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class HttpApiEvent:
    event_name: str
    path: str
    method: str
    authorizer: str | None = None
    """The route's authorizer: its ``Auth.Authorizer``, else the API's ``DefaultAuthorizer``; None = open."""
    scopes: tuple[str, ...] = ()
    """``Auth.AuthorizationScopes``: the token needs one of them."""


@dataclass(frozen=True)
class SqsEvent:
    event_name: str
    queue_arn: str
    batch_size: int
    function_response_types: list[str]
    enabled: bool
    batching_window: int = 0  # MaximumBatchingWindowInSeconds: how long Lambda gathers records (AWS default 0)


@dataclass(frozen=True)
class StreamEvent:
    """A ``Type: DynamoDB`` event: the function consumes a table's stream."""

    event_name: str
    table_name: str
    batch_size: int
    starting_position: str
    function_response_types: list[str]
    enabled: bool
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1  # AWS's default: until the record expires
    batching_window: int = 0  # MaximumBatchingWindowInSeconds: how long Lambda gathers records (AWS default 0)
    on_failure_arn: str | None = None  # DestinationConfig.OnFailure.Destination
    filter_criteria: dict[str, Any] | None = None  # FilterCriteria: {"Filters": [{"Pattern": "<JSON>"}]}


@dataclass(frozen=True)
class ScheduleEvent:
    event_name: str
    expression: str
    enabled: bool
    input: str | None


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    http_events: list[HttpApiEvent] = field(default_factory=list)
    sqs_events: list[SqsEvent] = field(default_factory=list)
    stream_events: list[StreamEvent] = field(default_factory=list)
    schedules: list[ScheduleEvent] = field(default_factory=list)
    log_group: str | None = None
    """``LoggingConfig.LogGroup``: where the function logs (Lambda's default ``/aws/lambda/<name>`` if unset)."""

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class LogGroup:
    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """An EventBridge rule with an event pattern (schedules are ``ScheduleEvent``s of functions)."""

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class QueuePolicy:
    """An ``AWS::SQS::QueuePolicy``: ``queue_urls`` get ``policy`` as their Policy attribute."""

    logical_id: str
    queue_urls: list[str]
    policy: dict[str, Any]


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch alarm; moto stores it (nothing evaluates it offline)."""

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Dashboard:
    logical_id: str
    name: str
    body: str


@dataclass(frozen=True)
class Topic:
    """An SNS topic; moto keeps what is published to it (subscriptions are not created offline)."""

    logical_id: str
    name: str
    arn: str


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    name: str
    arn: str
    type: str
    definition_path: Path
    substitutions: dict[str, str]
    schedules: list[ScheduleEvent] = field(default_factory=list)
    logging: dict[str, Any] = field(default_factory=dict)
    """The ``Logging`` property (CloudFormation's LoggingConfiguration); empty when not set."""
    tracing: dict[str, Any] = field(default_factory=dict)
    """The ``Tracing`` property (``{"Enabled": true}``); empty when not set."""


@dataclass(frozen=True)
class RouteThrottle:
    """API Gateway's throttle of each route: ``rate`` requests a second, ``burst`` at once above it."""

    rate: float
    burst: int


@dataclass(frozen=True)
class Template:
    """The resolved template: what the local stack creates and runs."""

    path: Path
    stack_name: str
    parameters: dict[str, Any]
    tables: list[Table]
    event_buses: list[EventBus]
    queues: list[Queue]
    functions: list[Function]
    state_machines: list[StateMachine]
    log_groups: list[LogGroup] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    queue_policies: list[QueuePolicy] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    dashboards: list[Dashboard] = field(default_factory=list)
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    topics: list[Topic] = field(default_factory=list)
    route_throttle: RouteThrottle | None = None  # the HttpApi's DefaultRouteSettings

    def function(self, logical_id: str) -> Function:
        for fn in self.functions:
            if fn.logical_id == logical_id:
                return fn
        raise KeyError(f"no function {logical_id!r} in {self.path}")

    def state_machine(self, logical_id: str) -> StateMachine:
        for sm in self.state_machines:
            if sm.logical_id == logical_id:
                return sm
        raise KeyError(f"no state machine {logical_id!r} in {self.path}")


# --------------------------------------------------------------------------- resolution

_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Events::EventBus": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::SNS::Topic": "TopicName",
}
_ARN_FORMAT = {
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{n}",
    "AWS::Serverless::Function": "arn:{p}:lambda:{r}:{a}:function:{n}",
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{n}",
    "AWS::Serverless::LayerVersion": "arn:{p}:lambda:{r}:{a}:layer:{n}:1",
    "AWS::Serverless::StateMachine": "arn:{p}:states:{r}:{a}:stateMachine:{n}",
    "AWS::StepFunctions::StateMachine": "arn:{p}:states:{r}:{a}:stateMachine:{n}",
    "AWS::Events::EventBus": "arn:{p}:events:{r}:{a}:event-bus/{n}",
    "AWS::SQS::Queue": "arn:{p}:sqs:{r}:{a}:{n}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{n}:*",  # CloudFormation's form, with ":*"
    "AWS::Events::Rule": "arn:{p}:events:{r}:{a}:rule/{n}",  # rule/<bus>/<name> on a custom bus (see arn())
    "AWS::IAM::ManagedPolicy": "arn:{p}:iam::{a}:policy/{n}",
    "AWS::CloudWatch::Alarm": "arn:{p}:cloudwatch:{r}:{a}:alarm:{n}",
    "AWS::SNS::Topic": "arn:{p}:sns:{r}:{a}:{n}",
}
# A table's GetAtt StreamArn before the table exists (moto's has a timestamp): the local stack
# creates event-source mappings with the table's LatestStreamArn instead.
_STREAM_ARN_SUFFIX = "/stream/local"
_REF_RETURNS_ARN = {
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::StateMachine",
    "AWS::StepFunctions::StateMachine",
    "AWS::IAM::ManagedPolicy",
    "AWS::SNS::Topic",
}


_CREATED_TYPES = {
    "AWS::DynamoDB::Table",
    "AWS::Events::EventBus",
    "AWS::SQS::Queue",
    "AWS::Serverless::Function",
    "AWS::Serverless::StateMachine",
    "AWS::Logs::LogGroup",
    "AWS::Events::Rule",
    "AWS::SQS::QueuePolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Serverless::HttpApi",
    "AWS::SNS::Topic",
}


# Properties the offline stack has no use for, and which name resources it does not run: the API's CORS
# (offline the console is served on the API's own origin) names the console's CloudFront distribution.
_NOT_OFFLINE = {"AWS::Serverless::HttpApi": {"CorsConfiguration"}}


def _offline_properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    dropped = _NOT_OFFLINE.get(resource["Type"], set())
    return {k: v for k, v in (resource.get("Properties") or {}).items() if k not in dropped}


def merge_globals(global_props: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge (own keys win), lists concatenate, scalars are overridden."""
    merged = dict(global_props)
    for key, value in own.items():
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


class _Resolver:
    def __init__(self, doc: dict[str, Any], parameters: dict[str, Any], stack_name: str) -> None:
        self.resources: dict[str, dict[str, Any]] = doc["Resources"]
        self.conditions: dict[str, Any] = doc.get("Conditions", {})
        self.mappings: dict[str, Any] = doc.get("Mappings", {})
        self.stack_name = stack_name
        self.refs: dict[str, Any] = {
            **parameters,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local",
            "AWS::NoValue": _NO_VALUE,
        }
        self._condition_values: dict[str, bool] = {}

    # ---- physical identity
    def resource_type(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"reference to unknown resource or parameter {logical_id!r}")
        return self.resources[logical_id]["Type"]

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties") or {}
        prop = _NAME_PROPERTY.get(resource["Type"])
        if prop and props.get(prop) is not None:
            return str(self.resolve(props[prop]))
        fifo = resource["Type"] == "AWS::SQS::Queue" and self.resolve(props.get("FifoQueue")) in (True, "true")
        return f"{self.stack_name}-{logical_id}" + (".fifo" if fifo else "")

    def arn(self, logical_id: str) -> str:
        rtype = self.resource_type(logical_id)
        if rtype not in _ARN_FORMAT:
            raise TemplateError(f"{logical_id}: no ARN known for {rtype}")
        name = self.physical_name(logical_id)
        if rtype == "AWS::Events::Rule":
            bus = self.resolve((self.resources[logical_id].get("Properties") or {}).get("EventBusName", "default"))
            name = name if bus == "default" else f"{bus}/{name}"
        return _ARN_FORMAT[rtype].format(p=PARTITION, r=REGION, a=ACCOUNT_ID, n=name)

    def queue_url(self, logical_id: str) -> str:
        return f"https://sqs.{REGION}.{URL_SUFFIX}/{ACCOUNT_ID}/{self.physical_name(logical_id)}"

    def ref(self, name: str) -> Any:
        if name in self.refs:
            return self.refs[name]
        rtype = self.resource_type(name)
        if rtype == "AWS::Serverless::HttpApi":
            return LOCAL_API_ID
        if rtype == "AWS::SQS::Queue":
            return self.queue_url(name)
        if rtype in _REF_RETURNS_ARN:
            return self.arn(name)
        if rtype in _NAME_PROPERTY:
            return self.physical_name(name)
        raise TemplateError(f"Ref {name}: resource type {rtype} is not supported by the local stack")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        rtype = self.resource_type(logical_id)
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName", "TopicName") and rtype in _NAME_PROPERTY:
            return self.physical_name(logical_id)
        if attribute == "QueueUrl" and rtype == "AWS::SQS::Queue":
            return self.queue_url(logical_id)
        if attribute == "StreamArn" and rtype == "AWS::DynamoDB::Table":
            return self.arn(logical_id) + _STREAM_ARN_SUFFIX
        raise TemplateError(f"GetAtt {logical_id}.{attribute}: not supported for {rtype}")

    # ---- conditions
    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self.conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._condition_values[name] = bool(self.resolve(self.conditions[name]))
        return self._condition_values[name]

    def included(self, logical_id: str) -> bool:
        cond = self.resources[logical_id].get("Condition")
        return cond is None or self.condition(cond)

    # ---- intrinsic functions
    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in ``value``; ``AWS::NoValue`` entries are dropped."""
        if isinstance(value, list):
            return [v for v in (self.resolve(item) for item in value) if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not _NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        match key:
            case "Ref":
                return self.ref(arg)
            case "Condition":
                return self.condition(arg)
            case "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            case "Fn::Sub":
                template, variables = (arg, {}) if isinstance(arg, str) else arg
                return self.sub(template, self.resolve(variables))
            case "Fn::Join":
                sep, items = arg
                return str(self.resolve(sep)).join(str(i) for i in self.resolve(items))
            case "Fn::Select":
                index, items = self.resolve(arg)
                return items[int(index)]
            case "Fn::Split":
                sep, text = self.resolve(arg)
                return text.split(sep)
            case "Fn::If":
                cond, when_true, when_false = arg
                return self.resolve(when_true if self.condition(cond) else when_false)
            case "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(arg)[0]
            case "Fn::And":
                return all(self.resolve(arg))
            case "Fn::Or":
                return any(self.resolve(arg))
            case "Fn::FindInMap":
                map_name, top, second = self.resolve(arg)
                return self.mappings[map_name][top][second]
            case "Fn::Base64":
                return base64.b64encode(str(self.resolve(arg)).encode()).decode()
        raise TemplateError(f"intrinsic function {key} is not supported by the local stack")

    def sub(self, template: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if name in self.refs or "." not in name:
                return str(self.ref(name))
            return str(self.get_att(*name.split(".", 1)))

        return _SUB_VARIABLE.sub(replace, template)


# Parameters whose AWS default cannot run offline: an empty JwtIssuer creates a Cognito user pool, and
# the local stack is its own issuer instead (local/auth.py). Overrides still win.
OFFLINE_PARAMETERS: dict[str, str] = {"JwtIssuer": LOCAL_ISSUER, "JwtAudience": LOCAL_AUDIENCE}


def _parameter_values(doc: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    declared: dict[str, Any] = doc.get("Parameters") or {}
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"parameter overrides not declared in the template: {sorted(unknown)}")
    overrides = {**{k: v for k, v in OFFLINE_PARAMETERS.items() if k in declared}, **overrides}
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            raw = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise TemplateError(f"parameter {name} has no Default and no override")
        if spec.get("Type", "String").startswith(("List<", "CommaDelimitedList")):
            value: Any = raw if isinstance(raw, list) else [s.strip() for s in str(raw).split(",")]
        else:
            value = str(raw)
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(a) for a in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


def _env_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _api_auth(props: dict[str, Any]) -> tuple[str | None, dict[str, Authorizer]]:
    """An HttpApi's default authorizer and its JWT authorizers (other kinds are not run locally)."""
    auth = props.get("Auth") or {}
    found: dict[str, Authorizer] = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        jwt = spec.get("JwtConfiguration")
        if not jwt:
            raise TemplateError(f"authorizer {name}: only JWT authorizers run locally")
        audience = jwt.get("audience") or []
        found[name] = Authorizer(name, str(jwt.get("issuer", "")),
                                    tuple(str(a) for a in ([audience] if isinstance(audience, str) else audience)),
                                    str(spec.get("IdentitySource", "$request.header.Authorization")))
    return auth.get("DefaultAuthorizer"), found


def _route_throttle(props: dict[str, Any]) -> RouteThrottle | None:
    """An HttpApi's ``DefaultRouteSettings`` throttle; None without one (API Gateway then applies only the
    account's limits, which the local stack does not model)."""
    settings = props.get("DefaultRouteSettings") or {}
    if "ThrottlingRateLimit" not in settings and "ThrottlingBurstLimit" not in settings:
        return None
    return RouteThrottle(float(settings.get("ThrottlingRateLimit", 10_000)),
                         int(settings.get("ThrottlingBurstLimit", 5_000)))


def _route_auth(ep: dict[str, Any], default: str | None) -> tuple[str | None, tuple[str, ...]]:
    auth = ep.get("Auth") or {}
    name = auth.get("Authorizer", default)
    return (None if name in (None, "NONE") else str(name)), tuple(auth.get("AuthorizationScopes") or ())


def _function(r: _Resolver, logical_id: str, props: dict[str, Any], base_dir: Path,
              default_authorizer: str | None = None) -> Function:
    code_uri = props.get("CodeUri")
    if not isinstance(code_uri, str) or "Handler" not in props:
        raise TemplateError(f"{logical_id}: the local stack runs only functions with a local CodeUri and Handler")
    http: list[HttpApiEvent] = []
    sqs: list[SqsEvent] = []
    streams: list[StreamEvent] = []
    schedules: list[ScheduleEvent] = []
    for event_name, event in (props.get("Events") or {}).items():
        ep = event.get("Properties") or {}
        match event["Type"]:
            case "HttpApi":
                path = ep.get("Path", "/{proxy+}")
                authorizer, scopes = _route_auth(ep, default_authorizer)
                http.append(HttpApiEvent(event_name, path, str(ep.get("Method", "ANY")).upper(), authorizer, scopes))
            case "SQS":
                sqs.append(
                    SqsEvent(
                        event_name,
                        queue_arn=ep["Queue"],
                        batch_size=int(ep.get("BatchSize", 10)),
                        function_response_types=list(ep.get("FunctionResponseTypes", [])),
                        enabled=bool(ep.get("Enabled", True)),
                        batching_window=int(ep.get("MaximumBatchingWindowInSeconds", 0)),
                    )
                )
            case "DynamoDB":
                streams.append(
                    StreamEvent(
                        event_name,
                        table_name=_stream_table(logical_id, event_name, ep["Stream"]),
                        batch_size=int(ep.get("BatchSize", 100)),
                        starting_position=ep.get("StartingPosition", "TRIM_HORIZON"),
                        function_response_types=list(ep.get("FunctionResponseTypes", [])),
                        enabled=bool(ep.get("Enabled", True)),
                        bisect_on_error=bool(ep.get("BisectBatchOnFunctionError", False)),
                        maximum_retry_attempts=int(ep.get("MaximumRetryAttempts", -1)),
                        batching_window=int(ep.get("MaximumBatchingWindowInSeconds", 0)),
                        on_failure_arn=((ep.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination"),
                        filter_criteria=ep.get("FilterCriteria"),
                    )
                )
            case "Schedule":
                schedules.append(_schedule(event_name, ep))
            case other:
                raise TemplateError(f"{logical_id}.{event_name}: event type {other} not supported locally")
    variables = (props.get("Environment") or {}).get("Variables") or {}
    log_group = (props.get("LoggingConfig") or {}).get("LogGroup")
    return Function(
        logical_id=logical_id,
        name=r.physical_name(logical_id),
        arn=r.arn(logical_id),
        code_dir=(base_dir / code_uri).resolve(),
        handler=props["Handler"],
        runtime=props.get("Runtime", "python3.12"),
        timeout=int(props.get("Timeout", 3)),
        memory_size=int(props.get("MemorySize", 128)),
        environment={k: _env_value(v) for k, v in variables.items()},
        http_events=http,
        sqs_events=sqs,
        stream_events=streams,
        schedules=schedules,
        log_group=str(log_group) if log_group else None,
    )


def _schedule(event_name: str, props: dict[str, Any]) -> ScheduleEvent:
    """A SAM ``Schedule`` event (of a function or a state machine); ``Enabled`` or ``State`` turn it off."""
    enabled = props["Enabled"] if "Enabled" in props else props.get("State", "ENABLED") != "DISABLED"
    return ScheduleEvent(event_name, props["Schedule"], enabled in (True, "true", "True"), props.get("Input"))


def _state_machine_schedules(logical_id: str, props: dict[str, Any]) -> list[ScheduleEvent]:
    schedules = []
    for event_name, event in (props.get("Events") or {}).items():
        if event["Type"] != "Schedule":
            raise TemplateError(f"{logical_id}.{event_name}: event type {event['Type']} not supported locally")
        schedules.append(_schedule(event_name, event.get("Properties") or {}))
    return schedules


def _stream_table(logical_id: str, event_name: str, stream_arn: Any) -> str:
    """The table whose stream ``stream_arn`` (a resolved ``GetAtt Table.StreamArn``) is."""
    if not (isinstance(stream_arn, str) and stream_arn.endswith(_STREAM_ARN_SUFFIX) and ":table/" in stream_arn):
        raise TemplateError(f"{logical_id}.{event_name}: only streams of the template's own tables run locally")
    return stream_arn.removesuffix(_STREAM_ARN_SUFFIX).split(":table/", 1)[1]


def resolve_template(
    doc: dict[str, Any],
    path: str | Path,
    parameter_overrides: Mapping[str, Any] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
) -> Template:
    """Resolve a parsed template (see :func:`read_template`) read from ``path``."""
    path = Path(path).resolve()
    base_dir = path.parent
    parameters = _parameter_values(doc, parameter_overrides or {})
    r = _Resolver(doc, parameters, stack_name)
    global_function = (doc.get("Globals") or {}).get("Function") or {}
    tables, buses, queues, functions, machines, log_groups, rules = [], [], [], [], [], [], []
    queue_policies: list[QueuePolicy] = []
    alarms: list[Alarm] = []
    dashboards: list[Dashboard] = []
    topics: list[Topic] = []
    default_authorizer: str | None = None
    authorizers: dict[str, Authorizer] = {}
    route_throttle: RouteThrottle | None = None
    for logical_id, resource in r.resources.items():  # the API's authorizers first: the routes name them
        if resource["Type"] == "AWS::Serverless::HttpApi" and r.included(logical_id):
            api = r.resolve(_offline_properties(resource))
            default, found = _api_auth(api)
            default_authorizer = default or default_authorizer
            authorizers.update(found)
            route_throttle = _route_throttle(api) or route_throttle
    for logical_id, resource in r.resources.items():
        if not r.included(logical_id):
            continue
        rtype = resource["Type"]
        raw = _offline_properties(resource)
        if rtype == "AWS::Serverless::Function":
            raw = merge_globals(global_function, raw)
        props = r.resolve(raw) if rtype in _CREATED_TYPES else {}
        if rtype == "AWS::DynamoDB::Table":
            tables.append(Table(logical_id, r.physical_name(logical_id), r.arn(logical_id), props))
        elif rtype == "AWS::Events::EventBus":
            buses.append(EventBus(logical_id, r.physical_name(logical_id), r.arn(logical_id)))
        elif rtype == "AWS::SQS::Queue":
            queues.append(
                Queue(logical_id, r.physical_name(logical_id), r.arn(logical_id), r.queue_url(logical_id), props)
            )
        elif rtype == "AWS::Logs::LogGroup":
            log_groups.append(LogGroup(logical_id, r.physical_name(logical_id), props))
        elif rtype == "AWS::Events::Rule":
            rules.append(Rule(logical_id, r.physical_name(logical_id), props))
        elif rtype == "AWS::SQS::QueuePolicy":
            queue_policies.append(QueuePolicy(logical_id, list(props["Queues"]), props["PolicyDocument"]))
        elif rtype == "AWS::CloudWatch::Alarm":
            alarms.append(Alarm(logical_id, r.physical_name(logical_id), props))
        elif rtype == "AWS::SNS::Topic":
            topics.append(Topic(logical_id, r.physical_name(logical_id), r.arn(logical_id)))
        elif rtype == "AWS::CloudWatch::Dashboard":
            dashboards.append(Dashboard(logical_id, r.physical_name(logical_id), str(props["DashboardBody"])))
        elif rtype == "AWS::Serverless::Function":
            functions.append(_function(r, logical_id, props, base_dir, default_authorizer))
        elif rtype == "AWS::Serverless::StateMachine":
            if not isinstance(props.get("DefinitionUri"), str):
                raise TemplateError(f"{logical_id}: the local stack needs a local DefinitionUri file")
            machines.append(
                StateMachine(
                    logical_id=logical_id,
                    name=r.physical_name(logical_id),
                    arn=r.arn(logical_id),
                    type=props.get("Type", "STANDARD"),
                    definition_path=(base_dir / props["DefinitionUri"]).resolve(),
                    substitutions={k: _env_value(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()},
                    schedules=_state_machine_schedules(logical_id, props),
                    logging=dict(props.get("Logging") or {}),
                    tracing=dict(props.get("Tracing") or {}),
                )
            )
    return Template(
        path, stack_name, parameters, tables, buses, queues, functions, machines, log_groups, rules,
        queue_policies, alarms, dashboards, authorizers, topics, route_throttle,
    )


def load_template(
    path: str | Path,
    parameter_overrides: Mapping[str, Any] | None = None,
    stack_name: str = DEFAULT_STACK_NAME,
) -> Template:
    """Read and resolve the template at ``path``."""
    return resolve_template(read_template(path), path, parameter_overrides, stack_name)
