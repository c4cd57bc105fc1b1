"""CodeDeploy's PreTraffic hook: call each new function version directly, before `live` moves.

Two requests per version, neither of which makes a room or spends quota: a health check that must
answer 200 JSON with a boolean `configured`, and a create with an out-of-range `ttl_seconds` that
the validation refuses with 400 `invalid_request` before any quota or Daily call. Both carry the
origin-verify value, so they pass the check CloudFront's requests pass. The result goes to
CodeDeploy as Succeeded or Failed; any error is Failed, so a deployment never waits on the hook.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

logger = Logger()

# (function ARN, event) -> the function's answer: Lambda's Invoke in AWS, the handler in tests.
Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"total_max_attempts": 2})
REFUSED_TTL = 0  # below every lifetime the template allows (MinValue 60)


class CheckFailed(Exception):
    """A new version answered something other than what it promises."""


@dataclass(frozen=True)
class Target:
    """One new function version and the origin-verify value its requests carry."""

    name: str
    version_arn: str
    origin_value: str


def api_event(method: str, path: str, request_id: str, origin_value: str, **extra: Any) -> dict:
    """An HttpApi (payload 2.0) event as CloudFront's request would make it."""
    headers = {"x-origin-verify": origin_value, "cloudfront-viewer-address": "192.0.2.1:443"}
    headers.update(extra.pop("headers", {}))
    return {
        "version": "2.0",
        "routeKey": f"ANY {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "requestId": request_id,
            "routeKey": f"ANY {path}",
            "stage": "$default",
            "http": {"method": method, "path": path, "sourceIp": "192.0.2.1"},
        },
        "isBase64Encoded": False,
        **extra,
    }


def _json_answer(answer: dict[str, Any], status: int, what: str) -> dict[str, Any]:
    if answer.get("statusCode") != status:
        raise CheckFailed(f"{what} answered {answer.get('statusCode')}, not {status}")
    content_type = (answer.get("headers") or {}).get("Content-Type", "")
    if not content_type.startswith("application/json"):
        raise CheckFailed(f"{what} answered {content_type or 'no content type'}, not JSON")
    body = json.loads(answer.get("body") or "null")
    if not isinstance(body, dict):
        raise CheckFailed(f"{what} answered a JSON body that is not an object")
    return body


def check_health(invoke: Invoke, target: Target, request_id: str) -> None:
    """GET /api/health answers 200 JSON with a boolean `configured` (false before the key)."""
    event = api_event("GET", "/api/health", request_id, target.origin_value)
    body = _json_answer(invoke(target.version_arn, event), 200, "health")
    if not isinstance(body.get("configured"), bool):
        raise CheckFailed("health answered no boolean `configured`")


def check_refused_create(invoke: Invoke, target: Target, request_id: str) -> None:
    """POST /api/rooms with an out-of-range lifetime is refused: 400 `invalid_request`."""
    event = api_event(
        "POST",
        "/api/rooms",
        request_id,
        target.origin_value,
        headers={"content-type": "application/json"},
        body=json.dumps({"ttl_seconds": REFUSED_TTL}),
    )
    body = _json_answer(invoke(target.version_arn, event), 400, "refused create")
    if (body.get("error"), body.get("requestId")) != ("invalid_request", request_id):
        raise CheckFailed(f"refused create answered {body.get('error')!r}, not invalid_request")


CHECKS = {"create_room": check_refused_create, "health": check_health}


def lambda_invoker(client: Any) -> Invoke:
    """Invoke through the Lambda API; a function error (crash, timeout) fails the check."""

    def invoke(function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        answer = client.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise CheckFailed(f"{function_arn} failed: {answer['FunctionError']}")
        return json.loads(payload)

    return invoke


def build(
    codedeploy: Any, invoke: Invoke, load_targets: Callable[[], list[Target]]
) -> Callable[[dict, Any], dict]:
    """The hook's handler: run every check, then report Succeeded or Failed to CodeDeploy."""

    def handler(event: dict, context: Any) -> dict:
        deployment_id = event["DeploymentId"]
        execution_id = event["LifecycleEventHookExecutionId"]
        status = "Succeeded"
        try:
            for target in load_targets():
                CHECKS[target.name](invoke, target, f"pre-traffic-{execution_id}")
                logger.info("New version answered", extra={"version": target.version_arn})
        except Exception:
            logger.exception("New version failed its check", extra={"deployment": deployment_id})
            status = "Failed"
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
        )
        return {"status": status}

    return handler


def targets_from_env(secrets: Any) -> list[Target]:
    """The new versions the template names (HEALTH_VERSION, CREATE_ROOM_VERSION), with the
    origin-verify value read from ORIGIN_VERIFY_SECRET."""
    value = secrets.get_secret_value(SecretId=os.environ["ORIGIN_VERIFY_SECRET"])["SecretString"]
    return [
        Target(name, os.environ[variable], value)
        for name, variable in (("health", "HEALTH_VERSION"), ("create_room", "CREATE_ROOM_VERSION"))
    ]


handler = logger.inject_lambda_context(
    build(
        boto3.client("codedeploy", config=CLIENT_CONFIG),
        lambda_invoker(boto3.client("lambda", config=CLIENT_CONFIG)),
        lambda: targets_from_env(boto3.client("secretsmanager", config=CLIENT_CONFIG)),
    )
)
