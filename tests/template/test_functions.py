"""Every function: python3.13 on arm64, least-privilege roles, the origin-verify secret, and the
PreTraffic check CodeDeploy runs before it moves `live`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import cfnlint
import pytest

from tests.template.conftest import TEMPLATE, Render, resources_of_type

CFNLINT_DATA = Path(cfnlint.__file__).parent / "data"  # AWS's IAM reference, as cfn-lint ships it

XRAY_WRITE_ONLY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
# Actions IAM cannot scope to a resource (Resource "*"); they still need a scoped action per item.
IAM_REFERENCE = json.loads((CFNLINT_DATA / "AdditionalSpecs" / "Policies.json").read_text())


def takes_no_resource(action: str) -> bool:
    """The Service Authorization Reference lists no resource type for it: only "*" matches."""
    service, name = action.split(":")
    return not IAM_REFERENCE[service]["Actions"][name.lower()].get("Resources")


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


def referenced_resources(resource: Any) -> set[str]:
    """The template resources a Ref, GetAtt or Sub names; empty for a literal or a Sub with a
    wildcard, but for a trailing `:*` (every version and alias of a function; pseudo parameters
    such as AWS::Region are left out)."""
    if not isinstance(resource, dict) or len(resource) != 1:
        return set()
    [(function, argument)] = resource.items()
    if function == "Ref":
        return set() if argument.startswith("AWS::") else {argument}
    if function == "Fn::GetAtt":
        return {argument[0]}
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        if "*" in SUB_REFERENCE.sub("", text).removesuffix(":*"):
            return set()
        names: set[str] = set()
        for name in SUB_REFERENCE.findall(text):
            names |= referenced_resources(variables[name]) if name in variables else {name}
        return {name for name in names if not name.startswith("AWS::")}
    return set()


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
            if all(takes_no_resource(a) for a in as_list(statement["Action"])):
                assert statement["Resource"] == "*", name
                continue
            for resource in as_list(statement["Resource"]):
                targets = referenced_resources(resource)
                assert targets, f"{name}: {resource} names no resource of the template"
                assert targets <= resources, f"{name}: {resource} is not of the template"


def test_the_only_managed_policies_are_logs_and_xray_writes(transformed: dict[str, Any]) -> None:
    # SAM attaches X-Ray's write-only policy because `Tracing` is a parameter (EnableTracing);
    # its actions (put segments, read sampling rules) have no resource to scope them to.
    functions = resources_of_type(transformed, "AWS::Lambda::Function").values()
    function_roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions}
    assert len(function_roles) == len(functions) == 3  # create, health, the PreTraffic check
    for name, role in roles(transformed):
        principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
        if name in function_roles:
            assert role["ManagedPolicyArns"] == [BASIC_EXECUTION, XRAY_WRITE_ONLY], name
            assert principals == [{"Service": ["lambda.amazonaws.com"]}], name
        else:  # CodeDeploy's role for the canary: its own statements only
            assert "ManagedPolicyArns" not in role, name
            assert principals == [{"Service": "codedeploy.amazonaws.com"}], name


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
            if referenced_resources(s["Resource"]) == {"OriginVerifySecret"}
        ]
        assert [as_list(s["Action"]) for s in grants] == [["secretsmanager:GetSecretValue"]], name


def test_no_deployed_function_may_skip_the_origin_check(transformed: dict[str, Any]) -> None:
    """The local-only switch that lets a function without an origin-verify secret answer is never
    set by the template, for any function, nor by a parameter an operator could flip."""
    for name, function in resources_of_type(transformed, "AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "LOCAL_ONLY_SKIP_ORIGIN_VERIFY" not in variables, name
    assert "LOCAL_ONLY_SKIP_ORIGIN_VERIFY" not in TEMPLATE.read_text()


@pytest.mark.parametrize(("enabled", "mode"), [("false", "PassThrough"), ("true", "Active")])
def test_tracing_is_off_unless_asked_for(render: Render, enabled: str, mode: str) -> None:
    deployed = render(EnableTracing=enabled)

    for name, function in resources_of_type(deployed, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": mode}, name


HOOK = "PreTrafficHookFunction"
SHIFTED = ("CreateRoomFunction", "HealthFunction")


def hook_statements(transformed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    role = transformed["Resources"][HOOK]["Properties"]["Role"]["Fn::GetAtt"][0]
    return {
        statement.get("Sid", "secret"): statement
        for statement in statements(transformed["Resources"][role]["Properties"])
    }


def new_version(transformed: dict[str, Any], function: str) -> str:
    """The logical id of the version the function's alias `live` is moved to."""
    alias = transformed["Resources"][f"{function}Aliaslive"]["Properties"]
    return alias["FunctionVersion"]["Fn::GetAtt"][0]


def test_the_hook_has_the_name_codedeploys_managed_policy_may_invoke(raw_template) -> None:
    # AWSCodeDeployRoleForLambda invokes arn:aws:lambda:*:*:function:CodeDeployHook_* only.
    name = raw_template["Resources"][HOOK]["Properties"]["FunctionName"]

    assert name == {"Fn::Sub": "CodeDeployHook_${AWS::StackName}-pre-traffic"}


def test_each_traffic_shift_runs_the_hook_first(transformed: dict[str, Any]) -> None:
    for function in SHIFTED:
        update = transformed["Resources"][f"{function}Aliaslive"]["UpdatePolicy"]
        assert update["CodeDeployLambdaAliasUpdate"]["BeforeAllowTrafficHook"] == {"Ref": HOOK}


def test_the_hook_is_told_the_new_versions(transformed: dict[str, Any]) -> None:
    variables = transformed["Resources"][HOOK]["Properties"]["Environment"]["Variables"]

    assert variables["CREATE_ROOM_VERSION"] == {"Ref": new_version(transformed, SHIFTED[0])}
    assert variables["HEALTH_VERSION"] == {"Ref": new_version(transformed, SHIFTED[1])}


def test_the_hook_may_call_only_the_shifted_functions_versions_and_report_as_iam_allows(
    transformed: dict[str, Any],
) -> None:
    """Their qualified ARNs, not this deploy's versions: a policy naming those changes in the
    update that runs the hook, and IAM may not have the change yet when the hook calls."""
    found = hook_statements(transformed)
    report, call = found["ReportTheCheck"], found["CallTheNewVersions"]

    assert set(found) == {"ReportTheCheck", "CallTheNewVersions", "secret"}
    assert report["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
    assert takes_no_resource(report["Action"])
    assert report["Resource"] == "*"
    assert call["Action"] == "lambda:InvokeFunction"
    assert call["Resource"] == [{"Fn::Sub": f"${{{f}.Arn}}:*"} for f in SHIFTED]
    assert found["secret"]["Action"] == ["secretsmanager:GetSecretValue"]


def test_codedeploy_may_invoke_the_hook_and_nothing_else(transformed: dict[str, Any]) -> None:
    role = transformed["Resources"]["DeploymentRole"]["Properties"]
    [invoke] = [s for s in statements(role) if "lambda:InvokeFunction" in as_list(s["Action"])]

    assert as_list(invoke["Action"]) == ["lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": [HOOK, "Arn"]}
