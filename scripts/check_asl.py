#!/usr/bin/env python3
"""Lint the Step Functions definitions that template.yaml deploys.

For every ``AWS::Serverless::StateMachine`` in the template, read its ``DefinitionUri`` file as
text, substitute each ``${Name}`` placeholder from ``DefinitionSubstitutions`` with a dummy value
(an ARN-looking string for ``*Arn`` keys and ARN-valued ``!GetAtt``, ``1`` for numbers, which go in
unquoted exactly as CloudFormation would put them, so the file is not valid JSON before this step),
parse the JSON and check what neither moto nor ``sam validate`` check:

* every ``${X}`` has a substitution, and every substitution is used;
* ``StartAt`` names a state; every ``Next``, ``Default``, ``Choices[].Next`` and ``Catch[].Next``
  names a state of the same scope (Parallel branches and Map processors are their own scopes);
* every state is reachable from ``StartAt``;
* state ``Type`` is known; Task states have a ``Resource``; states that need ``Next`` or ``End``
  have exactly one of them, Choice states have ``Choices``;
* no JSONata: no ``QueryLanguage``, ``Assign``, ``Arguments``, ``Output`` or ``{% ... %}``
  expressions (the offline stack's moto runs JSONPath only).

Usage: ``python scripts/check_asl.py [template.yaml]``; exits 1 and prints one line per problem.
Importable: ``check_template(path) -> list[str]`` and ``check_definition_text(...) -> list[str]``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

STATE_TYPES = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}
TERMINAL_TYPES = {"Succeed", "Fail"}
# Fields that only exist in JSONata mode (or are JSONata-only variables), which moto cannot run.
JSONATA_FIELDS = {"QueryLanguage", "Assign", "Arguments", "Output"}
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
JSONATA_EXPR = re.compile(r"^\s*\{%.*%\}\s*$", re.DOTALL)

DUMMY_ACCOUNT = "123456789012"
DUMMY_REGION = "us-east-1"


# --------------------------------------------------------------------------- template loading
class Tagged:
    """A CloudFormation short-form intrinsic (``!Ref X``, ``!GetAtt A.B``, ``!Sub ...``)."""

    def __init__(self, tag: str, value: Any):
        self.tag = tag.lstrip("!")
        self.value = value

    def __repr__(self) -> str:
        return f"!{self.tag} {self.value!r}"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation's ``!Tag`` intrinsics instead of failing on them."""


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(tag_suffix, value)


CfnLoader.add_multi_constructor("!", _construct_tagged)


def load_template(path: str | Path) -> dict[str, Any]:
    """Load a CloudFormation/SAM YAML template, keeping ``!Ref``-style tags as :class:`Tagged`."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a CloudFormation template (top level is not a mapping)")
    return data


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """Normalise ``!Ref X`` / ``{"Ref": "X"}`` / ``!GetAtt A.B`` / ``{"Fn::GetAtt": [A, B]}``."""
    if isinstance(value, Tagged):
        return value.tag, value.value
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, inner),) = value.items()
        if key == "Ref":
            return "Ref", inner
        if key.startswith("Fn::"):
            return key[4:], inner
    return None


# --------------------------------------------------------------------------- substitutions
def dummy_value(key: str, value: Any, template: Mapping[str, Any]) -> str:
    """The text CloudFormation would put in place of ``${key}``, with made-up identifiers.

    Numbers come back unquoted (``1``): a numeric placeholder stands bare in the file.
    Strings come back as their raw characters: a string placeholder stands inside quotes.
    """
    params = template.get("Parameters") or {}
    resources = template.get("Resources") or {}
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "1"
    found = intrinsic(value)
    if found:
        fn, arg = found
        if fn == "Ref" and isinstance(arg, str) and arg in params:
            ptype = str((params[arg] or {}).get("Type", "String"))
            if ptype == "Number":
                return "1"
            if key.endswith("Arn"):
                return _dummy_arn("lambda", f"function:{arg}")
            return f"dummy-{arg}"
        if fn == "GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else [str(p) for p in arg]
            target, attr = (parts[0] if parts else ""), (parts[1] if len(parts) > 1 else "")
            rtype = str((resources.get(target) or {}).get("Type", ""))
            if attr == "Arn" or key.endswith("Arn"):
                return _arn_for(rtype, target)
            return f"dummy-{target}-{attr}"
        if fn == "Ref" and isinstance(arg, str) and arg in resources:
            rtype = str((resources[arg] or {}).get("Type", ""))
            if key.endswith("Arn") or rtype.endswith("StateMachine") or rtype == "AWS::SNS::Topic":
                return _arn_for(rtype, arg)
            return f"dummy-{arg}"
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    if key.endswith("Arn"):
        return _dummy_arn("lambda", f"function:{key[:-3] or 'Dummy'}")
    return f"dummy-{key}"


def _dummy_arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{DUMMY_REGION}:{DUMMY_ACCOUNT}:{resource}"


def _arn_for(resource_type: str, name: str) -> str:
    mapping = {
        "AWS::Serverless::Function": ("lambda", f"function:{name}"),
        "AWS::Lambda::Function": ("lambda", f"function:{name}"),
        "AWS::Serverless::StateMachine": ("states", f"stateMachine:{name}"),
        "AWS::StepFunctions::StateMachine": ("states", f"stateMachine:{name}"),
        "AWS::SQS::Queue": ("sqs", name),
        "AWS::SNS::Topic": ("sns", name),
        "AWS::Events::EventBus": ("events", f"event-bus/{name}"),
        "AWS::DynamoDB::Table": ("dynamodb", f"table/{name}"),
        "AWS::Serverless::SimpleTable": ("dynamodb", f"table/{name}"),
    }
    service, resource = mapping.get(resource_type, ("lambda", f"function:{name}"))
    return _dummy_arn(service, resource)


def substitute(text: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


# --------------------------------------------------------------------------- definition checks
def check_definition_text(
    text: str,
    substitutions: Mapping[str, str],
    where: str = "definition",
) -> list[str]:
    """Check one ASL definition given as raw text and its ``{name: dummy text}`` substitutions."""
    errors: list[str] = []
    used = set(PLACEHOLDER.findall(text))
    for name in sorted(used - set(substitutions)):
        errors.append(f"{where}: placeholder ${{{name}}} has no entry in DefinitionSubstitutions")
    for name in sorted(set(substitutions) - used):
        errors.append(f"{where}: DefinitionSubstitutions key {name!r} is never used in the definition")

    resolved = substitute(text, substitutions)
    try:
        definition = json.loads(resolved)
    except json.JSONDecodeError as exc:
        line = (
            resolved.splitlines()[exc.lineno - 1] if 0 < exc.lineno <= len(resolved.splitlines()) else ""
        )
        errors.append(
            f"{where}: not valid JSON after substitution: {exc.msg} at line {exc.lineno} column {exc.colno}"
            + (f": {line.strip()[:120]}" if line else "")
            + " (a string placeholder standing outside quotes, or a number inside them?)"
        )
        return errors
    errors.extend(check_definition(definition, where))
    return errors


def check_definition(definition: Any, where: str = "definition") -> list[str]:
    """Structural checks of a parsed ASL definition (recursing into Parallel and Map)."""
    errors: list[str] = []
    if not isinstance(definition, Mapping):
        return [f"{where}: top level is not a JSON object"]
    if "QueryLanguage" in definition:
        errors.append(
            f"{where}: top-level QueryLanguage is set; JSONata is not supported offline (moto)"
        )
    errors.extend(_check_scope(definition, where))
    errors.extend(_check_jsonata_expressions(definition, where))
    return errors


def _check_scope(machine: Mapping[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    states = machine.get("States")
    start = machine.get("StartAt")
    if not isinstance(states, Mapping) or not states:
        return [f"{where}: 'States' is missing or empty"]
    if not isinstance(start, str):
        errors.append(f"{where}: 'StartAt' is missing")
    elif start not in states:
        errors.append(f"{where}: StartAt {start!r} is not a state (states: {', '.join(states)})")

    edges: dict[str, list[str]] = {}
    for name, state in states.items():
        here = f"{where}: state {name!r}"
        if not isinstance(state, Mapping):
            errors.append(f"{here} is not a JSON object")
            continue
        edges[name] = targets = []
        stype = state.get("Type")
        if stype not in STATE_TYPES:
            errors.append(
                f"{here} has unknown Type {stype!r} (expected one of {', '.join(sorted(STATE_TYPES))})"
            )
        for field in sorted(JSONATA_FIELDS & set(state)):
            errors.append(f"{here} uses {field!r} (JSONata / variables); moto runs JSONPath only")
        if stype == "Task" and not state.get("Resource"):
            errors.append(f"{here} is a Task without 'Resource'")

        if stype == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                errors.append(f"{here} is a Choice without 'Choices'")
                choices = []
            for i, rule in enumerate(choices):
                if not isinstance(rule, Mapping) or "Next" not in rule:
                    errors.append(f"{here}: Choices[{i}] has no 'Next'")
                    continue
                for field in sorted(JSONATA_FIELDS & set(rule)):
                    errors.append(f"{here}: Choices[{i}] uses {field!r}; moto runs JSONPath only")
                targets.append((f"Choices[{i}].Next", rule["Next"]))
            if "Default" in state:
                targets.append(("Default", state["Default"]))
            if "Next" in state or "End" in state:
                errors.append(f"{here} is a Choice and may not have 'Next' or 'End'")
        elif stype in TERMINAL_TYPES:
            if "Next" in state or "End" in state:
                errors.append(f"{here} is a {stype} state and may not have 'Next' or 'End'")
        elif stype in STATE_TYPES:
            has_next, has_end = "Next" in state, state.get("End") is True
            if has_next == has_end:
                errors.append(f"{here} must have exactly one of 'Next' or 'End': true")
            if has_next:
                targets.append(("Next", state["Next"]))

        for i, catcher in enumerate(state.get("Catch") or []):
            if not isinstance(catcher, Mapping) or "Next" not in catcher:
                errors.append(f"{here}: Catch[{i}] has no 'Next'")
                continue
            for field in sorted(JSONATA_FIELDS & set(catcher)):
                errors.append(f"{here}: Catch[{i}] uses {field!r}; moto runs JSONPath only")
            targets.append((f"Catch[{i}].Next", catcher["Next"]))

        for label, target in targets:
            if target not in states:
                errors.append(f"{here}: {label} -> {target!r}, which is not a state in this scope")

        # nested scopes
        if stype == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                errors.append(f"{here} is a Parallel without 'Branches'")
            for i, branch in enumerate(branches or []):
                errors.extend(_check_scope(branch, f"{where} > {name}.Branches[{i}]"))
        elif stype == "Map":
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if not isinstance(processor, Mapping):
                errors.append(f"{here} is a Map without 'ItemProcessor' (or 'Iterator')")
            else:
                if "QueryLanguage" in processor:
                    errors.append(f"{here}: ItemProcessor sets QueryLanguage; moto runs JSONPath only")
                errors.extend(_check_scope(processor, f"{where} > {name}.ItemProcessor"))

        edges[name] = [t for _, t in targets if isinstance(t, str)]

    # reachability
    if isinstance(start, str) and start in states:
        seen = {start}
        todo = [start]
        while todo:
            for nxt in edges.get(todo.pop(), []):
                if nxt in states and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for name in states:
            if name not in seen:
                errors.append(f"{where}: state {name!r} is not reachable from StartAt {start!r}")
    return errors


def _check_jsonata_expressions(node: Any, where: str, path: str = "$") -> list[str]:
    errors: list[str] = []
    if isinstance(node, str):
        if JSONATA_EXPR.match(node):
            errors.append(
                f"{where}: JSONata expression at {path}: {node.strip()[:80]} (moto runs JSONPath only)"
            )
    elif isinstance(node, Mapping):
        for key, value in node.items():
            errors.extend(_check_jsonata_expressions(value, where, f"{path}.{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            errors.extend(_check_jsonata_expressions(value, where, f"{path}[{i}]"))
    return errors


# --------------------------------------------------------------------------- template checks
def state_machines(template: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for name, res in (template.get("Resources") or {}).items():
        if isinstance(res, Mapping) and res.get("Type") == "AWS::Serverless::StateMachine":
            yield name, res.get("Properties") or {}


def check_template(template_path: str | Path = "template.yaml") -> list[str]:
    """Check every ``AWS::Serverless::StateMachine`` of the template; return the problems found."""
    template_path = Path(template_path)
    base = template_path.parent
    try:
        template = load_template(template_path)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        return [f"{template_path}: cannot read template: {detail}"]

    errors: list[str] = []
    machines = list(state_machines(template))
    if not machines:
        print(
            f"note: {template_path} has no AWS::Serverless::StateMachine; nothing to check",
            file=sys.stderr,
        )
    referenced: set[Path] = set()
    for name, props in machines:
        where = f"{name}"
        subs_raw = props.get("DefinitionSubstitutions") or {}
        if not isinstance(subs_raw, Mapping):
            errors.append(f"{where}: DefinitionSubstitutions is not a mapping")
            subs_raw = {}
        subs = {str(k): dummy_value(str(k), v, template) for k, v in subs_raw.items()}

        uri = props.get("DefinitionUri")
        if isinstance(uri, str):
            path = (base / uri).resolve()
            referenced.add(path)
            where = f"{name} ({uri})"
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                errors.append(f"{where}: cannot read DefinitionUri: {exc.strerror}")
                continue
            errors.extend(check_definition_text(text, subs, where))
        elif "Definition" in props:
            text = json.dumps(props["Definition"], default=repr)
            errors.extend(check_definition_text(text, subs, f"{name} (inline Definition)"))
        elif uri is not None:
            print(
                f"note: {name}: DefinitionUri is not a local file ({uri!r}); not checked",
                file=sys.stderr,
            )
        else:
            errors.append(f"{where}: neither DefinitionUri nor Definition is set")

    for stray in sorted((base / "statemachines").glob("*.asl.json")):
        if stray.resolve() not in referenced:
            print(
                f"note: {stray.relative_to(base)} is not used by any state machine in "
                f"{template_path.name}; not checked",
                file=sys.stderr,
            )
    return errors


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    template = Path(args[0]) if args else Path("template.yaml")
    errors = check_template(template)
    if errors:
        print(
            f"ASL check failed: {len(errors)} problem(s) in the state machines of {template}:",
            file=sys.stderr,
        )
        for err in errors:
            print(f"  - {err}", file=sys.stderr)
        return 1
    count = sum(1 for _ in state_machines(load_template(template)))
    print(f"ASL check: {count} state machine(s) in {template} OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
