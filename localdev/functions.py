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


def create_room(
    *,
    secretsmanager: Any = None,
    dynamodb: Any = None,
    daily_session: requests.Session | None = None,
    clock: Callable[[], float] = time.time,
    **changes: Any,
) -> Handler:
    """A new create-room container; clients not given are the function's own."""
    config = settings(**changes)
    import create_room as module
    from daily_rooms import quota, stored_secrets

    return module.build(
        config,
        stored_secrets.new_client() if secretsmanager is None else secretsmanager,
        quota.new_client() if dynamodb is None else dynamodb,
        requests.Session() if daily_session is None else daily_session,
        clock,
    )


def health(*, secretsmanager: Any = None, **changes: Any) -> Handler:
    """A new health container; a client not given is the function's own."""
    config = settings(**changes)
    import health as module
    from daily_rooms import stored_secrets

    return module.build(
        config, stored_secrets.new_client() if secretsmanager is None else secretsmanager
    )
