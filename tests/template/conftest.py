"""template.yaml parsed with its CloudFormation tags and transformed offline by samtranslator.

`render(**parameters)` transforms with those parameter values (as CloudFormation's hosted
transform gets them), then evaluates the Conditions and resolves Fn::If, AWS::NoValue and Refs to
parameters and AWS::Region, so a test sees what CloudFormation would deploy for them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"

NO_VALUE = object()
Render = Callable[..., dict[str, Any]]


class NoManagedPolicies:
    """samtranslator's policy loader, offline: no managed policy names to look up."""

    def load(self) -> dict[str, str]:
        return {}


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain dicts, lists and strings (`!Ref x` becomes {"Ref": "x"})."""
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def with_s3_code(template: dict[str, Any]) -> dict[str, Any]:
    """A copy whose local CodeUri/ContentUri are s3:// URIs, as `sam package` leaves them."""
    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{name}.zip"
    return packaged


def sam_transform(
    template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The AWS::Serverless transform, given the parameter values as CloudFormation gives them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", REGION)  # the translator fills in AWS::Region
        return transform(with_s3_code(template), dict(parameters or {}), NoManagedPolicies())


def parameter_values(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Defaults overridden by `overrides`; CommaDelimitedList values become lists."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = overrides.get(name, spec.get("Default"))
        if spec["Type"] == "CommaDelimitedList" and isinstance(raw, str):
            raw = raw.split(",")
        values[name] = raw
    unknown = set(overrides) - set(values)
    assert not unknown, f"no such parameters: {unknown}"
    return values


def resolve(node: Any, parameters: dict[str, Any], conditions: dict[str, bool]) -> Any:
    """Evaluate Ref (parameters, AWS::NoValue), Condition, Fn::If, Fn::Equals, Fn::Not, Fn::And,
    Fn::Or and Fn::Join."""
    if isinstance(node, list):
        items = [resolve(item, parameters, conditions) for item in node]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        [(function, argument)] = node.items()
        if function == "Ref" and argument == "AWS::NoValue":
            return NO_VALUE
        if function == "Ref" and argument in parameters:
            return parameters[argument]
        if function == "Condition":
            return conditions[argument]
        if function == "Fn::If":
            condition, if_true, if_false = argument
            chosen = if_true if conditions[condition] else if_false
            return resolve(chosen, parameters, conditions)
        if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Join"):
            values = resolve(argument, parameters, conditions)
            if function == "Fn::Equals":
                return values[0] == values[1]
            if function == "Fn::Not":
                return not values[0]
            if function == "Fn::And":
                return all(values)
            if function == "Fn::Or":
                return any(values)
            return values[0].join(values[1])
    resolved = {key: resolve(value, parameters, conditions) for key, value in node.items()}
    return {key: value for key, value in resolved.items() if value is not NO_VALUE}


def render_template(
    template: dict[str, Any], region: str = REGION, **overrides: str
) -> dict[str, Any]:
    """What CloudFormation would deploy from the transformed template for these parameters,
    in `region`."""
    parameters = parameter_values(template, overrides)
    transformed = sam_transform(template, parameters)
    known = {**parameters, "AWS::Region": region}
    conditions: dict[str, bool] = {}
    for name, expression in transformed.get("Conditions", {}).items():
        conditions[name] = resolve(expression, known, conditions)
    for section in ("Resources", "Outputs"):  # what a false Condition leaves out
        entries = transformed.get(section, {})
        for name in [
            n for n, entry in entries.items() if not conditions.get(entry.get("Condition"), True)
        ]:
            del entries[name]
    rendered = resolve(transformed, parameters, conditions)
    rendered.pop("Conditions", None)
    return rendered


def rule_failures(template: dict[str, Any], region: str = REGION, **overrides: str) -> list[str]:
    """The AssertDescription of every template Rule that would refuse these parameters."""
    known = {**parameter_values(template, overrides), "AWS::Region": region}
    failures = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not resolve(rule["RuleCondition"], known, {}):
            continue
        failures += [
            a["AssertDescription"]
            for a in rule["Assertions"]
            if not resolve(a["Assert"], known, {})
        ]
    return failures


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def only_resource(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    """The name and properties of the one resource of type `kind`."""
    [(name, resource)] = resources_of_type(template, kind).items()
    return name, resource["Properties"]


@pytest.fixture(scope="session")
def raw_template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def transformed(raw_template: dict[str, Any]) -> dict[str, Any]:
    """The SAM transform's output: plain CloudFormation, intrinsics left in place."""
    return sam_transform(raw_template)


@pytest.fixture(scope="session")
def render(raw_template: dict[str, Any]) -> Render:
    """render(AllowedOrigins="https://a.example") -> the template as deployed with those values
    (in us-east-1 unless `region` is given)."""

    def rendered(region: str = REGION, **overrides: str) -> dict[str, Any]:
        return render_template(raw_template, region, **overrides)

    return rendered


@pytest.fixture(scope="session")
def deployed(render: Render) -> dict[str, Any]:
    """The template as deployed with every parameter at its default."""
    return render()
