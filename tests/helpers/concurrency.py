"""One Lambda container in the concurrency test: its own process, creating rooms in turn."""

from __future__ import annotations

import importlib
import json
import os
from typing import Any


def run_container(
    env: dict[str, str], viewers: list[str], headers: dict, barrier: Any, out: Any, timeout: float
):
    """Import the handler like a cold container, wait for the others, then create rooms, each
    invocation given `timeout` seconds."""
    os.environ.update(env)
    from localdev.local_stack import LambdaContext
    from tests.helpers import load_event

    create_room = importlib.import_module("create_room")
    barrier.wait(timeout=60)
    results = []
    for viewer in viewers:
        event = load_event("create_room/create_no_body.json")
        forwarded = {**headers, "cloudfront-viewer-address": f"{viewer}:443"}
        event["headers"] = {**event["headers"], **forwarded}
        answer = create_room.handler(
            event, LambdaContext(function_name="create_room", timeout_seconds=timeout)
        )
        results.append((viewer, answer["statusCode"], json.loads(answer["body"]).get("error")))
    out.put(results)
