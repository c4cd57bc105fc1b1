"""Every function: python3.13 on arm64, least-privilege roles, and the origin-verify secret."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.template.conftest import Render, resources_of_type

XRAY_WRITE_ONLY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
# Actions IAM cannot scope to a resource (Resource "*"); they still need a scoped action per item.
UNSCOPABLE_ACTIONS = {"secretsmanager:BatchGetSecretValue"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def roles(transformed: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = sorted(resources_of_type(transformed, "AWS::IAM::Role").items())
    assert found, "the transform made no IAM role"
    return [(name, role["Properties"]) for name, role in found]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


def referenced_resource(resource: Any) -> str | None:
    """The template resource a Ref, GetAtt or Sub points at; None for anything else."""
    if not isinstance(resource, dict) or len(resource) != 1:
        return None
    [(function, argument)] = resource.items()
    if function == "Ref":
        return argument
    if function == "Fn::GetAtt":
        return argument[0]
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        names = {
            referenced_resource(variables[name]) if name in variables else name
            for name in SUB_REFERENCE.findall(text)
        }
        return names.pop() if len(names) == 1 else None
    return None


def test_every_role_allows_named_actions_on_template_resources_only(
    transformed: dict[str, Any],
) -> None:
    resources = set(transformed["Resources"])
    for name, role in roles(transformed):
        assert statements(role), f"{name} has no statement of its own"
        for statement in statements(role):
            assert statement["Effect"] == "Allow", name
            assert not {"NotAction", "NotResource"} & set(statement), name
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{name}: wildcard action {action}"
            if set(as_list(statement["Action"])) <= UNSCOPABLE_ACTIONS:
                assert statement["Resource"] == "*", name
                continue
            for resource in as_list(statement["Resource"]):
                target = referenced_resource(resource)
                assert target in resources, f"{name}: {resource} is not a resource of the template"


def test_the_only_managed_policies_are_logs_and_xray_writes(transformed: dict[str, Any]) -> None:
    # SAM attaches X-Ray's write-only policy because `Tracing` is a parameter (EnableTracing);
    # its actions (put segments, read sampling rules) have no resource to scope them to.
    functions = resources_of_type(transformed, "AWS::Lambda::Function").values()
    function_roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions}
    assert len(function_roles) == len(functions) == 2
    for name, role in roles(transformed):
        principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
        if name in function_roles:
            assert role["ManagedPolicyArns"] == [BASIC_EXECUTION, XRAY_WRITE_ONLY], name
            assert principals == [{"Service": ["lambda.amazonaws.com"]}], name
        else:  # CodeDeploy's role for the canary: its own two statements only
            assert "ManagedPolicyArns" not in role, name
            assert principals == [{"Service": "codedeploy.amazonaws.com"}], name


@pytest.mark.parametrize(
    "resource",
    [
        {"Ref": "HttpApi"},
        {"Fn::GetAtt": ["StateTable", "Arn"]},
        {"Fn::Sub": "${StateTable.Arn}/index/*"},
        {"Fn::Sub": ["${secretArn}", {"secretArn": {"Ref": "StateTable"}}]},  # policy templates
    ],
)
def test_resource_references_are_recognised(resource: dict[str, Any]) -> None:
    assert referenced_resource(resource) in {"HttpApi", "StateTable"}


@pytest.mark.parametrize(
    "resource",
    ["*", "arn:aws:secretsmanager:*:*:secret:*", {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}],
)
def test_wildcards_and_literals_are_not_template_resources(resource: Any) -> None:
    assert referenced_resource(resource) is None


def test_functions_run_python313_on_arm64(transformed: dict[str, Any]) -> None:
    functions = resources_of_type(transformed, "AWS::Lambda::Function")
    assert functions
    for name, function in functions.items():
        assert function["Properties"]["Runtime"] == "python3.13", name
        assert function["Properties"]["Architectures"] == ["arm64"], name


def test_functions_know_and_may_read_the_origin_verify_secret(transformed: dict[str, Any]) -> None:
    functions = resources_of_type(transformed, "AWS::Lambda::Function")
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["ORIGIN_VERIFY_SECRET"] == {"Ref": "OriginVerifySecret"}, name
        role = transformed["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        grants = [
            s
            for s in statements(role["Properties"])
            if referenced_resource(s["Resource"]) == "OriginVerifySecret"
        ]
        assert [as_list(s["Action"]) for s in grants] == [["secretsmanager:GetSecretValue"]], name


@pytest.mark.parametrize(("enabled", "mode"), [("false", "PassThrough"), ("true", "Active")])
def test_tracing_is_off_unless_asked_for(render: Render, enabled: str, mode: str) -> None:
    deployed = render(EnableTracing=enabled)

    for name, function in resources_of_type(deployed, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": mode}, name
