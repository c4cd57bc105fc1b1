"""bootstrap/template.yaml as CloudFormation creates it for one environment, offline.

`render_bootstrap("staging")` evaluates the Conditions, Fn::If, Fn::Sub, Ref and Fn::GetAtt with
the parameters and the account's pseudo parameters, and gives each resource the physical name
or ARN CloudFormation returns for it, so the tests read the policies exactly as IAM stores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from tests.template.conftest import load_template

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "bootstrap" / "template.yaml"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
NO_VALUE = object()


@cache
def bootstrap_template() -> dict[str, Any]:
    return load_template(BOOTSTRAP)


@dataclass
class Renderer:
    template: dict[str, Any]
    parameters: dict[str, str]
    account: str
    region: str
    conditions: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        for name, expression in self.template.get("Conditions", {}).items():
            self.conditions[name] = self.resolve(expression)

    def created(self, logical_id: str) -> bool:
        condition = self.template["Resources"][logical_id].get("Condition")
        return condition is None or self.conditions[condition]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolve(self.template["Resources"][logical_id].get("Properties", {}))

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.template["Resources"][name]
        assert self.created(name), f"Ref to {name}, which its condition leaves out"
        properties = self.properties(name)
        return {
            "AWS::IAM::ManagedPolicy": lambda: (
                f"arn:aws:iam::{self.account}:policy/{properties['ManagedPolicyName']}"
            ),
            "AWS::IAM::Role": lambda: properties["RoleName"],
            "AWS::S3::Bucket": lambda: properties["BucketName"],
            "AWS::IAM::OIDCProvider": lambda: (
                f"arn:aws:iam::{self.account}:oidc-provider/"
                + properties["Url"].removeprefix("https://")
            ),
        }[resource["Type"]]()

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.template["Resources"][name]
        properties = self.properties(name)
        return {
            ("AWS::IAM::Role", "Arn"): lambda: (
                f"arn:aws:iam::{self.account}:role/" + properties["RoleName"]
            ),
            ("AWS::S3::Bucket", "Arn"): lambda: f"arn:aws:s3:::{properties['BucketName']}",
        }[(resource["Type"], attribute)]()

    def sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {key: self.resolve(value) for key, value in variables.items()}

        def replace(found: re.Match[str]) -> str:
            name = found.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] in self.template["Resources"]:
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            [(function, argument)] = node.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                name, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self.get_att(name, attribute)
            if function == "Fn::Sub":
                return self.sub(argument)
            if function == "Condition":
                return self.conditions[argument]
            if function == "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.conditions[condition] else if_false)
            if function in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
                values = self.resolve(argument)
                return {
                    "Fn::Equals": lambda: values[0] == values[1],
                    "Fn::Not": lambda: not values[0],
                    "Fn::And": lambda: all(values),
                    "Fn::Or": lambda: any(values),
                }[function]()
            assert not function.startswith("Fn::"), f"the renderer does not know {function}"
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}


@dataclass(frozen=True)
class Bootstrap:
    """One environment's bootstrap stack as created: its resources' properties by logical id."""

    environment: str
    account: str
    region: str
    resources: dict[str, dict[str, Any]]
    outputs: dict[str, str]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: r["Properties"] for name, r in self.resources.items() if r["Type"] == kind}

    @property
    def stack(self) -> str:
        return self.outputs["AppStackName"]

    @property
    def boundary(self) -> dict[str, Any]:
        return self.resources["PermissionsBoundary"]["Properties"]["PolicyDocument"]

    @property
    def boundary_arn(self) -> str:
        name = self.resources["PermissionsBoundary"]["Properties"]["ManagedPolicyName"]
        return f"arn:aws:iam::{self.account}:policy/{name}"

    @property
    def role(self) -> dict[str, Any]:
        return self.resources["DeployRole"]["Properties"]

    @property
    def trust(self) -> dict[str, Any]:
        return self.role["AssumeRolePolicyDocument"]

    def deploy_policies(self) -> dict[str, dict[str, Any]]:
        """The managed policies attached to the deploy role, by name."""
        role = self.role["RoleName"]
        return {
            policy["ManagedPolicyName"]: policy["PolicyDocument"]
            for name, policy in self.of_type("AWS::IAM::ManagedPolicy").items()
            if role in policy.get("Roles", [])
        }

    @property
    def deploy_policy(self) -> dict[str, Any]:
        """All the deploy role's statements as one policy (IAM evaluates them together)."""
        statements = [s for p in self.deploy_policies().values() for s in p["Statement"]]
        return {"Version": "2012-10-17", "Statement": statements}


def render_bootstrap(
    environment: str, *, account: str = ACCOUNT, region: str = REGION, **parameters: str
) -> Bootstrap:
    template = bootstrap_template()
    parameters.setdefault("AppStackName", f"daily-rooms-{environment}")  # as make bootstrap
    values = {
        name: str(parameters.get(name, spec.get("Default", "")))
        for name, spec in template["Parameters"].items()
        if name != "Environment"
    }
    unknown = set(parameters) - set(values)
    assert not unknown, f"no such parameters: {unknown}"
    for name, value in [("Environment", environment), *values.items()]:
        pattern = template["Parameters"][name].get("AllowedPattern")
        assert pattern is None or re.fullmatch(pattern, value), f"{name}={value!r} is refused"
    renderer = Renderer(template, {"Environment": environment, **values}, account, region)
    resources = {
        name: {"Type": resource["Type"], "Properties": renderer.properties(name)}
        for name, resource in template["Resources"].items()
        if renderer.created(name)
    }
    outputs = {name: renderer.resolve(o["Value"]) for name, o in template["Outputs"].items()}
    return Bootstrap(environment, account, region, resources, outputs)
