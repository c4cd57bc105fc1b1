"""daily_rooms.resolver: Powertools' HTTP API resolver without the rest of its packages, which
still give every name they export when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Run in a fresh interpreter: this test session has loaded the whole packages long ago.
PROBE = """
import json, sys
before = set(sys.modules)
import daily_rooms.resolver as resolver
loaded = sorted(set(sys.modules) - before)
from aws_lambda_powertools.event_handler import AppSyncResolver, Response
from aws_lambda_powertools.utilities.data_classes import S3Event, APIGatewayProxyEventV2
import aws_lambda_powertools.event_handler as handlers
import aws_lambda_powertools.utilities.data_classes as events
print(json.dumps({
    "loaded": loaded,
    "same_response": Response is resolver.Response,
    "missing": sorted(set(handlers.__all__) - set(vars(handlers)))
    + sorted(set(events.__all__) - set(vars(events))),
    "event": APIGatewayProxyEventV2({"rawPath": "/api/rooms"}).raw_path,
}))
"""


def probe() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions" / "common")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_only_the_http_api_resolver_loads_and_the_packages_still_give_every_name() -> None:
    result = probe()
    loaded = result["loaded"]
    assert "aws_lambda_powertools.event_handler.api_gateway" in loaded
    unwanted = [
        name
        for name in loaded
        if name.split(".")[0] == "asyncio"
        or name.startswith("aws_lambda_powertools.event_handler.appsync")
        or name.startswith("aws_lambda_powertools.event_handler.bedrock_agent")
        or name.startswith("aws_lambda_powertools.utilities.data_classes.s3_event")
        or name.startswith("aws_lambda_powertools.utilities.data_classes.sqs_event")
    ]
    assert unwanted == []
    assert result["same_response"] is True
    assert result["missing"] == []
    assert result["event"] == "/api/rooms"
