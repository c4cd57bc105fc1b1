"""The PreTraffic hook against the real handlers (in-process, on the local stack) and CodeDeploy's
and Lambda's APIs on loopback, through the real boto3 clients."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localdev.local_stack import REGION, LambdaContext, LocalStack
from tests.helpers import Invoker, load_event
from tests.hooks.aws_double import AwsDouble, aws_double

ACCOUNT = "arn:aws:lambda:us-east-1:123456789012:function"
CREATE_VERSION = f"{ACCOUNT}:daily-rooms-create-room:7"
HEALTH_VERSION = f"{ACCOUNT}:daily-rooms-health:7"
HOOK_EVENT = load_event("pre_traffic/hook.json")
DEPLOYMENT, EXECUTION = HOOK_EVENT["DeploymentId"], HOOK_EVENT["LifecycleEventHookExecutionId"]


@pytest.fixture
def double(fresh_stack: LocalStack, create_room: Invoker, health: Invoker) -> Iterator[AwsDouble]:
    """Lambda and CodeDeploy; each new version is a new container of its function."""
    with aws_double() as running:
        running.functions = {CREATE_VERSION: create_room.raw, HEALTH_VERSION: health.raw}
        running.start_deployment(DEPLOYMENT, EXECUTION)
        yield running


@pytest.fixture
def hook() -> ModuleType:
    """The hook's module, imported once the local stack has set the region."""
    return importlib.import_module("pre_traffic")


def client(double: AwsDouble, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=double.url)


def run_hook(hook: ModuleType, double: AwsDouble, stack: LocalStack, **environment: str) -> dict:
    """The hook's handler as the template wires it: versions and the origin-verify secret from
    the environment, the secret from (moto's) Secrets Manager, Lambda and CodeDeploy doubles."""
    env = {"CREATE_ROOM_VERSION": CREATE_VERSION, "HEALTH_VERSION": HEALTH_VERSION, **environment}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        handler = hook.build(
            client(double, "codedeploy"),
            hook.lambda_invoker(client(double, "lambda")),
            lambda: hook.targets_from_env(stack.client("secretsmanager")),
        )
        return handler(HOOK_EVENT, LambdaContext(function_name="pre-traffic"))


def stored_items(stack: LocalStack) -> list[dict]:
    return stack.client("dynamodb").scan(TableName="daily-rooms-state")["Items"]


def test_working_versions_succeed_without_a_room_or_quota(hook, double, fresh_stack) -> None:
    answer = run_hook(hook, double, fresh_stack)

    assert answer == {"status": "Succeeded"}
    assert double.status(DEPLOYMENT, EXECUTION) == "Succeeded"
    assert fresh_stack.daily.rooms == {}
    assert fresh_stack.daily.calls() == []  # not even the domain lookup
    assert stored_items(fresh_stack) == []


def test_a_stack_without_its_key_yet_still_succeeds(hook, double, fresh_stack) -> None:
    fresh_stack.set_configured(False)

    assert run_hook(hook, double, fresh_stack) == {"status": "Succeeded"}


def test_a_version_that_crashes_fails_the_deployment(hook, double, fresh_stack) -> None:
    def crashing(event: dict) -> dict:
        raise RuntimeError("init failed")

    double.functions[CREATE_VERSION] = crashing

    assert run_hook(hook, double, fresh_stack) == {"status": "Failed"}
    assert double.status(DEPLOYMENT, EXECUTION) == "Failed"


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"},
        {"statusCode": 500, "headers": {"Content-Type": "application/json"}, "body": "{}"},
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"},
    ],
    ids=["not-json", "5xx", "no-configured"],
)
def test_a_health_answer_off_its_contract_fails(hook, double, fresh_stack, answer) -> None:
    double.functions[HEALTH_VERSION] = lambda event: answer

    assert run_hook(hook, double, fresh_stack) == {"status": "Failed"}


def test_a_create_that_validation_does_not_refuse_fails(hook, double, fresh_stack) -> None:
    """The health version standing in for create: 405 is JSON, but not the refusal promised."""
    double.functions[CREATE_VERSION] = double.functions[HEALTH_VERSION]

    assert run_hook(hook, double, fresh_stack) == {"status": "Failed"}


def test_without_the_origin_value_the_versions_refuse_and_it_fails(
    hook, double, fresh_stack
) -> None:
    secrets = fresh_stack.client("secretsmanager")
    secrets.create_secret(Name="pre-traffic/wrong-origin", SecretString="not-the-value")

    answer = run_hook(hook, double, fresh_stack, ORIGIN_VERIFY_SECRET="pre-traffic/wrong-origin")

    assert answer == {"status": "Failed"}


def test_an_unreadable_origin_secret_fails_rather_than_hangs(hook, double, fresh_stack) -> None:
    answer = run_hook(hook, double, fresh_stack, ORIGIN_VERIFY_SECRET="pre-traffic/missing")

    assert answer == {"status": "Failed"}
    assert double.status(DEPLOYMENT, EXECUTION) == "Failed"


def test_an_unknown_deployment_is_an_error_of_the_hook(hook, double, fresh_stack) -> None:
    double.hooks.clear()

    with pytest.raises(ClientError) as refused:
        run_hook(hook, double, fresh_stack)
    assert refused.value.response["Error"]["Code"] == "DeploymentDoesNotExistException"


def test_the_requests_carry_the_stacks_origin_value(hook, double, fresh_stack) -> None:
    seen: list[dict] = []
    health = double.functions[HEALTH_VERSION]
    double.functions[HEALTH_VERSION] = lambda event: seen.append(event) or health(event)

    run_hook(hook, double, fresh_stack)

    [event] = seen
    assert event["headers"]["x-origin-verify"] == fresh_stack.origin_secret
    assert event["requestContext"]["requestId"] == f"pre-traffic-{EXECUTION}"


# --- the CodeDeploy double follows the API reference ------------------------------------------


@pytest.mark.parametrize(
    ("request_fields", "code"),
    [
        ({"lifecycleEventHookExecutionId": EXECUTION, "status": "Failed"}, "DeploymentIdRequired"),
        ({"deploymentId": "12345", "status": "Failed"}, "InvalidDeploymentId"),
        ({"deploymentId": "d-ZZZZZZZZZ", "status": "Failed"}, "DeploymentDoesNotExist"),
        ({"deploymentId": DEPLOYMENT, "status": "Failed"}, "InvalidLifecycleEventHookExecutionId"),
        (
            {
                "deploymentId": DEPLOYMENT,
                "lifecycleEventHookExecutionId": EXECUTION,
                "status": "Skipped",
            },
            "InvalidLifecycleEventHookExecutionStatus",
        ),
    ],
)
def test_codedeploy_refuses_what_its_api_refuses(double, request_fields, code) -> None:
    with pytest.raises(ClientError) as refused:
        client(double, "codedeploy").put_lifecycle_event_hook_execution_status(**request_fields)

    assert refused.value.response["Error"]["Code"] == f"{code}Exception"
    assert double.status(DEPLOYMENT, EXECUTION) is None


def test_codedeploy_takes_one_status_per_hook(double) -> None:
    codedeploy = client(double, "codedeploy")
    fields = {"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": EXECUTION}

    answer = codedeploy.put_lifecycle_event_hook_execution_status(**fields, status="Succeeded")
    with pytest.raises(ClientError) as refused:
        codedeploy.put_lifecycle_event_hook_execution_status(**fields, status="Failed")

    assert answer["lifecycleEventHookExecutionId"] == EXECUTION
    assert refused.value.response["Error"]["Code"] == "LifecycleEventAlreadyCompletedException"
    assert double.status(DEPLOYMENT, EXECUTION) == "Succeeded"


def test_lambda_reports_a_raised_error_as_a_function_error(double) -> None:
    def crashing(event: dict) -> dict:
        raise RuntimeError("boom")

    double.functions[HEALTH_VERSION] = crashing
    answer = client(double, "lambda").invoke(FunctionName=HEALTH_VERSION, Payload=b"{}")

    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "RuntimeError"
