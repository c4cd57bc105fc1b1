"""Powertools' HTTP API resolver, loaded without the rest of its packages.

`aws_lambda_powertools.event_handler` imports every resolver Powertools has (AppSync, Bedrock
agents, VPC Lattice, ... and asyncio with them), and `utilities.data_classes` every event class
(S3, SQS, Kafka, ...): together about 40 ms of CPU and 3 MiB on every cold start, where the API
Gateway resolver needs 10 ms (benchmark/README.md). Here the two packages are registered without
running their `__init__`, the resolver and the event classes it imports load, and then any other
name looked up on either package runs its `__init__` after all: other imports keep working.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

EVENTS = "aws_lambda_powertools.utilities.data_classes"
HANDLERS = "aws_lambda_powertools.event_handler"
# The modules of the event classes api_gateway.py imports from the EVENTS package.
RESOLVER_EVENTS = (
    "alb_event",
    "api_gateway_proxy_event",
    "bedrock_agent_event",
    "lambda_function_url_event",
    "vpc_lattice",
)


def _without_init(name: str, submodules: tuple[str, ...] = ()) -> Callable[[], None]:
    """Register package `name` with only the classes of `submodules`, its `__init__` not run.
    The function returned makes the first lookup of any other name run the `__init__`."""
    if name in sys.modules:
        return lambda: None
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    loader, package = spec.loader, importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, package)
    for submodule in submodules:
        module = importlib.import_module(f"{name}.{submodule}")
        for key, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__:
                setattr(package, key, value)

    def complete(attribute: str) -> Any:
        del package.__getattr__
        loader.exec_module(package)
        return getattr(package, attribute)

    return lambda: setattr(package, "__getattr__", complete)


_completions = [_without_init(EVENTS, RESOLVER_EVENTS), _without_init(HANDLERS)]
from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)

for _complete in _completions:
    _complete()

__all__ = ["APIGatewayHttpResolver", "Response"]
