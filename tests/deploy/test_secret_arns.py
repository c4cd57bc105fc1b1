"""Every secret of the template against the policies in docs/, by ARN: the deploy role may create
it, and the boundary lets a function read each secret its role reads. (test_deploy_role.py
compares actions; a secret left out here would only be denied once deployed.)"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from localdev.stack import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
SECRETS = sorted(
    name
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::SecretsManager::Secret"
)


def arn_of(secret: str) -> str:
    """The ARN CloudFormation gives a secret without a Name: its logical id and a suffix."""
    return f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{secret}-AbCdEfGhIjKl-x1Y2z3"


def as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


def allows(policy: str, action: str, arn: str) -> bool:
    """Whether an Allow statement of the policy file grants `action` on `arn`."""
    document = json.loads((ROOT / "docs" / policy).read_text())
    return any(
        statement["Effect"] == "Allow"
        and any(fnmatch.fnmatch(action, granted) for granted in as_list(statement["Action"]))
        and any(
            fnmatch.fnmatch(arn, resource.replace("REGION", "*").replace("ACCOUNT_ID", "*"))
            for resource in as_list(statement["Resource"])
        )
        for statement in document["Statement"]
    )


def read_by_functions() -> set[str]:
    """The secrets the functions' policies grant GetSecretValue on (SAM's policy template)."""
    return {
        policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Ref"]
        for resource in TEMPLATE["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for policy in resource["Properties"].get("Policies", [])
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy
    }


def test_the_functions_read_the_three_secrets() -> None:
    assert SECRETS == ["DailyApiKeySecret", "OriginVerifySecret", "RoomNamingSecret"]
    assert read_by_functions() == set(SECRETS)


@pytest.mark.parametrize("secret", SECRETS)
def test_the_deploy_role_may_create_and_delete_the_secret(secret: str) -> None:
    for action in ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"):
        assert allows("deploy-role-policy.json", action, arn_of(secret)), (secret, action)


@pytest.mark.parametrize("secret", sorted(read_by_functions()))
def test_the_boundary_lets_the_functions_read_the_secret(secret: str) -> None:
    assert allows(
        "permissions-boundary-policy.json", "secretsmanager:GetSecretValue", arn_of(secret)
    )
