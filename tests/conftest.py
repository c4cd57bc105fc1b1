"""Fixtures shared by every test: the local stack, the handlers and captured logs.

Plain helpers (events, the invoker, log capture) live in tests/helpers.py.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from localdev import functions
from localdev.local_stack import SERVICE_ENVIRONMENT, LocalStack, start_local_stack
from tests.helpers import Invoker, LogRecorder
from tests.helpers.dynamodb import DynamoDBConflicts

# Lambda sets a function's environment before any of its code runs; test modules import the
# shared package (which names its logger after the service) while being collected.
os.environ.update(SERVICE_ENVIRONMENT)

hypothesis_settings.register_profile("ci", max_examples=2000, deadline=None)
hypothesis_settings.register_profile("fuzz", max_examples=10000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_conflicts = DynamoDBConflicts()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """moto's server, with DynamoDB's atomic writes and conflicts, and the Daily emulator on
    loopback, shared by the whole run."""
    local = start_local_stack(wrap_aws=_conflicts.wrap)
    yield local
    local.close()


@pytest.fixture
def fresh_stack(stack: LocalStack) -> LocalStack:
    """The shared stack, reset: empty emulator, configured secret, caches cleared."""
    _conflicts.reset()
    stack.reset()
    return stack


@pytest.fixture
def dynamodb(fresh_stack: LocalStack) -> DynamoDBConflicts:
    """The conflicts of the stack's DynamoDB (tests/helpers/dynamodb.py), reset."""
    return _conflicts


@pytest.fixture
def create_room(fresh_stack: LocalStack) -> Invoker:
    """A new create-room container on the stack, its AWS clients in `wiring` (`.new(...)` builds
    another)."""
    from daily_rooms import quota, stored_secrets  # imported once the environment is set

    clients = {"secretsmanager": stored_secrets.new_client(), "dynamodb": quota.new_client()}
    return Invoker(functions.create_room, fresh_stack, **clients)


@pytest.fixture
def health(fresh_stack: LocalStack) -> Invoker:
    """A new health container on the stack, its client in `wiring` (`.new(...)` builds another)."""
    from daily_rooms import stored_secrets

    return Invoker(functions.health, fresh_stack, secretsmanager=stored_secrets.new_client())


@pytest.fixture
def logs(create_room: Invoker, health: Invoker) -> Iterator[LogRecorder]:
    """Every log line of the functions during one test, at DEBUG level."""
    service_logger = logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"])
    recorder = LogRecorder()
    recorder.setFormatter(service_logger.handlers[0].formatter)
    level = service_logger.level
    service_logger.addHandler(recorder)
    service_logger.setLevel(logging.DEBUG)
    yield recorder
    service_logger.removeHandler(recorder)
    service_logger.setLevel(level)
