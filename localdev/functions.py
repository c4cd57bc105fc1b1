"""The functions' handlers, built in this process by their modules' own `build` factories.

Each build is a new container: its own clients and caches, and the environment's settings (the
local stack sets it) unless told otherwise. The modules are imported at the first build, once
that environment is set and the dev server has its stdout in place, as Lambda imports a function
only after setting its environment.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIRS = [ROOT / "functions" / name for name in ("common", "create_room", "health")]
Handler = Callable[[dict, Any], dict]
# moto's server runs in this process, sharing the CPU with the dev server, the browser and the
# tests: the functions' 1 s read timeout would measure this machine's load rather than the
# product, and a busy moment would fail a health check. Containers built here read their secrets
# with this read timeout instead (an attempt still fits in the create's 7 s deadline).
LOOPBACK_SECRETS_READ_TIMEOUT = 3.0


def _on_path() -> None:
    """Make the layer's package and the functions' folders importable, as in Lambda."""
    for directory in FUNCTION_DIRS:
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))


def settings(**changes: Any) -> Any:
    """The functions' settings from the environment, with `changes` to some fields."""
    _on_path()
    from daily_rooms.settings import Settings

    return dataclasses.replace(Settings.from_env(), **changes)


def _secrets_client() -> Any:
    """The functions' Secrets Manager client, with the loopback read timeout."""
    import boto3
    from botocore.config import Config

    from daily_rooms import deadline, stored_secrets

    timeout = Config(read_timeout=LOOPBACK_SECRETS_READ_TIMEOUT)
    client = boto3.client("secretsmanager", config=stored_secrets.CLIENT_CONFIG.merge(timeout))
    return deadline.bind_to_deadline(client)


def create_room(
    *,
    secretsmanager: Any = None,
    dynamodb: Any = None,
    daily_session: requests.Session | None = None,
    clock: Callable[[], float] = time.time,
    **changes: Any,
) -> Handler:
    """A new create-room container; clients not given are the function's own (its secrets read
    with the loopback read timeout)."""
    config = settings(**changes)
    import create_room as module
    from daily_rooms import quota

    return module.build(
        config,
        _secrets_client() if secretsmanager is None else secretsmanager,
        quota.new_client() if dynamodb is None else dynamodb,
        requests.Session() if daily_session is None else daily_session,
        clock,
    )


def health(*, secretsmanager: Any = None, **changes: Any) -> Handler:
    """A new health container; a client not given is the function's own, with the loopback
    read timeout."""
    config = settings(**changes)
    import health as module

    return module.build(config, _secrets_client() if secretsmanager is None else secretsmanager)
