"""Local stand-ins for the cloud: moto's server (Secrets Manager, DynamoDB) and the Daily emulator.

`start_local_stack()` starts them on loopback, seeds what the template would create, and points
the handlers at them through the environment, so the same code runs here as in Lambda.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from localdev.daily_emulator import DailyEmulator

SECRET_NAME = "daily-rooms/daily-api-key"  # noqa: S105 (a name, not a value)
ORIGIN_SECRET_NAME = "daily-rooms/origin-verify"  # noqa: S105
NAMING_SECRET_NAME = "daily-rooms/room-naming"  # noqa: S105
STATE_TABLE = "daily-rooms-state"
REGION = "us-east-1"
# What the template's Globals give every function (the shared package reads it on import).
SERVICE_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "daily-rooms",
    "POWERTOOLS_METRICS_NAMESPACE": "DailyRooms",
}


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the handlers use, for in-process invocations."""

    function_name: str = "local"
    timeout_seconds: float = 10.0
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


WsgiApp = Callable[[dict, Callable], Any]


class MotoServer:
    """moto's server application (what `moto_server` runs) on loopback, in a thread; `wrap`
    puts a WSGI middleware in front of it."""

    def __init__(self, port: int = 0, wrap: Callable[[WsgiApp], WsgiApp] | None = None):
        app = DomainDispatcherApplication(create_backend_app)
        app = wrap(app) if wrap else app
        self.server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


@dataclass
class LocalStack:
    moto: MotoServer
    moto_url: str
    daily: DailyEmulator | None
    api_key: str
    origin_secret: str
    env: dict[str, str] = field(default_factory=dict)
    naming_secret: str = field(default_factory=lambda: secrets.token_urlsafe(36))

    @property
    def mode(self) -> str:
        """One line saying where rooms are created."""
        if self.daily is None:
            return "real Daily API (DAILY_API_KEY is set)"
        return f"offline: Daily emulator at {self.daily.base_url}, AWS emulated by moto"

    def cdn_headers(self, viewer_ip: str, viewer_port: int = 50000) -> dict[str, str]:
        """The headers CloudFront adds on the way to the API (lower-case, as HttpApi has them)."""
        return {
            "x-origin-verify": self.origin_secret,
            "cloudfront-viewer-address": f"{viewer_ip}:{viewer_port}",
        }

    def clear_state(self) -> None:
        """Empty the table of quota counters and Idempotency-Key markers."""
        dynamodb = self.client("dynamodb")
        for page in dynamodb.get_paginator("scan").paginate(TableName=STATE_TABLE):
            for item in page["Items"]:
                dynamodb.delete_item(TableName=STATE_TABLE, Key={"id": item["id"]})

    def client(self, service: str, config: Config | None = None):
        """A boto3 client for the emulated AWS (`config`: botocore's, e.g. its retries)."""
        return boto3.client(service, region_name=REGION, endpoint_url=self.moto_url, config=config)

    def set_secret(self, value: str) -> None:
        """Put a raw value in the API key secret (running functions keep their cached copy for
        its max age, as in Lambda; a function built afterwards reads it)."""
        self.client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=value)

    def set_configured(self, configured: bool) -> None:
        """Put the key into the secret, or an empty one as the template creates it."""
        self.set_secret(json.dumps({"apiKey": self.api_key if configured else ""}))

    def reset(self) -> None:
        """Back to a configured stack with an empty emulator."""
        if self.daily is not None:
            self.daily.wait_idle()
            self.daily.reset()
            self.daily.set_api_key(self.api_key)
        self.clear_state()
        self.set_configured(True)

    def close(self) -> None:
        if self.daily is not None:
            self.daily.stop()
        self.moto.stop()


def local_environment(moto_url: str, daily_url: str | None) -> dict[str, str]:
    """The environment the template gives the functions, pointed at the local stand-ins."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_url,
        "DAILY_API_KEY_SECRET": SECRET_NAME,
        "ORIGIN_VERIFY_SECRET": ORIGIN_SECRET_NAME,
        "ROOM_NAMING_SECRET": NAMING_SECRET_NAME,
        "STATE_TABLE": STATE_TABLE,
        **SERVICE_ENVIRONMENT,
    }
    if daily_url:
        env["DAILY_API_URL"] = daily_url
    return env


def start_local_stack(
    *,
    daily_api_key: str | None = None,
    port_moto: int = 0,
    port_daily: int = 0,
    wrap_aws: Callable[[WsgiApp], WsgiApp] | None = None,
) -> LocalStack:
    """Start moto (behind `wrap_aws`, if given) and, unless a real key is given, the Daily
    emulator; set os.environ."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    moto = MotoServer(port_moto, wrap_aws)
    moto_url = moto.url
    emulator_key = f"local-{secrets.token_hex(12)}"
    daily = None if daily_api_key else DailyEmulator(emulator_key, port=port_daily).start()
    env = local_environment(moto_url, daily.base_url if daily else None)
    os.environ.update(env)
    origin_secret = secrets.token_urlsafe(36)
    stack = LocalStack(moto, moto_url, daily, daily_api_key or daily.api_key, origin_secret, env)
    seed_aws(stack)
    return stack


def seed_aws(stack: LocalStack) -> None:
    """Create what the template creates: the three secrets and the state table."""
    secretsmanager = stack.client("secretsmanager")
    secretsmanager.create_secret(Name=SECRET_NAME, SecretString="{}")
    secretsmanager.create_secret(Name=ORIGIN_SECRET_NAME, SecretString=stack.origin_secret)
    secretsmanager.create_secret(Name=NAMING_SECRET_NAME, SecretString=stack.naming_secret)
    dynamodb = stack.client("dynamodb")
    dynamodb.create_table(
        TableName=STATE_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=STATE_TABLE,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    stack.set_configured(True)
