"""The PreTraffic hook against the real handlers (in-process, on the local stack), through the
real boto3 clients: CodeDeploy's answers from botocore's Stubber (which checks each request
against the service's model), Lambda's Invoke answered by the function versions in this process."""

from __future__ import annotations

import importlib
import io
import json
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from botocore.stub import Stubber

from localdev.local_stack import REGION, LambdaContext, LocalStack
from tests.helpers import Invoker, load_event

ACCOUNT = "arn:aws:lambda:us-east-1:123456789012:function"
CREATE_VERSION = f"{ACCOUNT}:daily-rooms-create-room:7"
HEALTH_VERSION = f"{ACCOUNT}:daily-rooms-health:7"
HOOK_EVENT = load_event("pre_traffic/hook.json")
DEPLOYMENT, EXECUTION = HOOK_EVENT["DeploymentId"], HOOK_EVENT["LifecycleEventHookExecutionId"]
REPORT = {"deploymentId": DEPLOYMENT, "lifecycleEventHookExecutionId": EXECUTION}


@dataclass
class Aws:
    """The hook's CodeDeploy client (stubbed) and Lambda client, whose Invoke runs `functions`."""

    functions: dict[str, Callable[[dict], Any]]
    codedeploy: Any = field(default_factory=lambda: boto3.client("codedeploy", region_name=REGION))
    lambda_: Any = field(default_factory=lambda: boto3.client("lambda", region_name=REGION))

    def __post_init__(self) -> None:
        self.stubber = Stubber(self.codedeploy)
        self.lambda_.meta.events.register("before-call.lambda.Invoke", self.invoke)

    def expect_report(self, status: str) -> None:
        """CodeDeploy takes this status for the deployment's hook (the request must match)."""
        answer = {"lifecycleEventHookExecutionId": EXECUTION}
        self.stubber.add_response(
            "put_lifecycle_event_hook_execution_status", answer, {**REPORT, "status": status}
        )

    def invoke(self, params: dict, **_: Any) -> tuple[AWSResponse, dict]:
        """Lambda's Invoke: the function's result, or `FunctionError: Unhandled` if it raised."""
        name = unquote(params["url_path"].split("/")[3])
        answer: dict[str, Any] = {"StatusCode": 200}
        try:
            payload = self.functions[name](json.loads(params["body"]))
        except Exception as error:  # what Lambda reports for any raised error
            answer["FunctionError"] = "Unhandled"
            payload = {"errorType": type(error).__name__, "stackTrace": traceback.format_exc()}
        body = json.dumps(payload).encode()
        http = AWSResponse(params["url"], 200, {}, None)
        return http, {**answer, "Payload": StreamingBody(io.BytesIO(body), len(body))}


@pytest.fixture
def aws(fresh_stack: LocalStack, create_room: Invoker, health: Invoker) -> Iterator[Aws]:
    """Lambda and CodeDeploy; each new version is a new container of its function."""
    running = Aws({CREATE_VERSION: create_room.raw, HEALTH_VERSION: health.raw})
    with running.stubber:
        yield running
        running.stubber.assert_no_pending_responses()


@pytest.fixture
def hook() -> ModuleType:
    """The hook's module, imported once the local stack has set the region."""
    return importlib.import_module("pre_traffic")


def run_hook(
    hook: ModuleType, aws: Aws, stack: LocalStack, reports: str = "Failed", **environment: str
) -> dict:
    """The hook's handler as the template wires it (versions and the origin-verify secret from
    the environment, the secret from moto's Secrets Manager); it must report `reports`."""
    aws.expect_report(reports)
    env = {"CREATE_ROOM_VERSION": CREATE_VERSION, "HEALTH_VERSION": HEALTH_VERSION, **environment}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        handler = hook.build(
            aws.codedeploy,
            hook.lambda_invoker(aws.lambda_),
            lambda: hook.targets_from_env(stack.client("secretsmanager")),
        )
        return handler(HOOK_EVENT, LambdaContext(function_name="pre-traffic"))


def stored_items(stack: LocalStack) -> list[dict]:
    return stack.client("dynamodb").scan(TableName="daily-rooms-state")["Items"]


def test_working_versions_succeed_without_a_room_or_quota(hook, aws, fresh_stack) -> None:
    answer = run_hook(hook, aws, fresh_stack, "Succeeded")

    assert answer == {"status": "Succeeded"}
    assert fresh_stack.daily.rooms == {}
    assert fresh_stack.daily.calls() == []  # not even the domain lookup
    assert stored_items(fresh_stack) == []


def test_a_stack_without_its_key_yet_still_succeeds(hook, aws, fresh_stack) -> None:
    fresh_stack.set_configured(False)

    assert run_hook(hook, aws, fresh_stack, "Succeeded") == {"status": "Succeeded"}


def test_a_version_that_crashes_fails_the_deployment(hook, aws, fresh_stack) -> None:
    def crashing(event: dict) -> dict:
        raise RuntimeError("init failed")

    aws.functions[CREATE_VERSION] = crashing

    assert run_hook(hook, aws, fresh_stack) == {"status": "Failed"}


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"},
        {"statusCode": 500, "headers": {"Content-Type": "application/json"}, "body": "{}"},
        {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"},
    ],
    ids=["not-json", "5xx", "no-configured"],
)
def test_a_health_answer_off_its_contract_fails(hook, aws, fresh_stack, answer) -> None:
    aws.functions[HEALTH_VERSION] = lambda event: answer

    assert run_hook(hook, aws, fresh_stack) == {"status": "Failed"}


def test_a_create_that_validation_does_not_refuse_fails(hook, aws, fresh_stack) -> None:
    """The health version standing in for create: 405 is JSON, but not the refusal promised."""
    aws.functions[CREATE_VERSION] = aws.functions[HEALTH_VERSION]

    assert run_hook(hook, aws, fresh_stack) == {"status": "Failed"}


def test_without_the_origin_value_the_versions_refuse_and_it_fails(hook, aws, fresh_stack) -> None:
    secrets = fresh_stack.client("secretsmanager")
    secrets.create_secret(Name="pre-traffic/wrong-origin", SecretString="not-the-value")

    answer = run_hook(hook, aws, fresh_stack, ORIGIN_VERIFY_SECRET="pre-traffic/wrong-origin")

    assert answer == {"status": "Failed"}


def test_an_unreadable_origin_secret_fails_rather_than_hangs(hook, aws, fresh_stack) -> None:
    answer = run_hook(hook, aws, fresh_stack, ORIGIN_VERIFY_SECRET="pre-traffic/missing")

    assert answer == {"status": "Failed"}


def test_an_unknown_deployment_is_an_error_of_the_hook(hook, aws, fresh_stack) -> None:
    code = "DeploymentDoesNotExistException"
    report = {**REPORT, "status": "Succeeded"}
    method = "put_lifecycle_event_hook_execution_status"
    aws.stubber.add_client_error(method, code, expected_params=report)

    with pytest.raises(ClientError) as refused:
        hook.build(
            aws.codedeploy,
            hook.lambda_invoker(aws.lambda_),
            lambda: [],
        )(HOOK_EVENT, LambdaContext(function_name="pre-traffic"))
    assert refused.value.response["Error"]["Code"] == "DeploymentDoesNotExistException"


def test_the_requests_carry_the_stacks_origin_value(hook, aws, fresh_stack) -> None:
    seen: list[dict] = []
    health = aws.functions[HEALTH_VERSION]
    aws.functions[HEALTH_VERSION] = lambda event: seen.append(event) or health(event)

    run_hook(hook, aws, fresh_stack, "Succeeded")

    [event] = seen
    assert event["headers"]["x-origin-verify"] == fresh_stack.origin_secret
    assert event["requestContext"]["requestId"] == f"pre-traffic-{EXECUTION}"
