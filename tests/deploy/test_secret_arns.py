"""Every secret of the template against the bootstrap policies, by ARN: each is named after its
stack, the environment's deploy role may create and delete it, and the boundary lets a function
read each secret its role reads. (test_deploy_role.py compares actions; a secret left out here
would only be denied once deployed.)"""

from __future__ import annotations

from functools import cache

import pytest

from localdev.stack import load_template
from tests.deploy.bootstrap_render import ACCOUNT, REGION, Bootstrap, render_bootstrap
from tests.deploy.policy_eval import allows

TEMPLATE = load_template()
SECRETS = sorted(
    name
    for name, resource in TEMPLATE["Resources"].items()
    if resource["Type"] == "AWS::SecretsManager::Secret"
)


@cache
def staging() -> Bootstrap:
    return render_bootstrap("staging")


def arn_of(secret: str, stack: str = "daily-rooms-staging") -> str:
    """The ARN Secrets Manager gives the secret in `stack`: its Name and a six-character suffix."""
    name = TEMPLATE["Resources"][secret]["Properties"]["Name"]["Fn::Sub"]
    deployed = name.replace("${AWS::StackName}", stack)
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{deployed}-AbC123"


def read_by_functions() -> dict[str, set[str]]:
    """The secrets each function's policies grant GetSecretValue on (SAM's policy template)."""
    return {
        name: {
            policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Ref"]
            for policy in resource["Properties"].get("Policies", [])
            if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy
        }
        for name, resource in TEMPLATE["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_the_functions_read_the_three_secrets() -> None:
    assert SECRETS == ["DailyApiKeySecret", "OriginVerifySecret", "RoomNamingSecret"]
    assert set().union(*read_by_functions().values()) == set(SECRETS)


@pytest.mark.parametrize("secret", SECRETS)
def test_every_secret_is_named_after_its_stack(secret: str) -> None:
    """An unnamed secret is `<LogicalId>-<random>` in every stack, so no policy could tell two
    environments' secrets apart."""
    assert arn_of(secret).split(":secret:")[1].startswith("daily-rooms-staging/")
    assert arn_of(secret) != arn_of(secret, "daily-rooms-prod")


@pytest.mark.parametrize("secret", SECRETS)
def test_the_deploy_role_may_create_and_delete_its_own_secret_only(secret: str) -> None:
    role = staging().deploy_policy
    for action in ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"):
        assert allows(role, action, arn_of(secret)), (secret, action)
        assert not allows(role, action, arn_of(secret, "daily-rooms-prod")), (secret, action)


def test_only_the_key_is_written_by_the_tools() -> None:
    role = staging().deploy_policy
    for secret in SECRETS:
        writable = allows(role, "secretsmanager:PutSecretValue", arn_of(secret))
        assert writable == (secret == "DailyApiKeySecret"), secret


@pytest.mark.parametrize(
    ("function", "secret"),
    sorted((f, s) for f, secrets in read_by_functions().items() for s in secrets),
)
def test_the_boundary_lets_each_function_read_its_secrets(function: str, secret: str) -> None:
    name = TEMPLATE["Resources"][function]["Properties"]["FunctionName"]["Fn::Sub"]
    deployed = name.replace("${AWS::StackName}", "daily-rooms-staging")
    caller = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{deployed}"
    context = {"lambda:SourceFunctionArn": caller}

    assert allows(staging().boundary, "secretsmanager:GetSecretValue", arn_of(secret), context)
