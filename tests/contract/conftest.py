"""The dev server (the code `make dev` runs) on a free loopback port, over the shared stack."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from localdev.local_stack import LocalStack
from localdev.server import DevServer, serve


@pytest.fixture(scope="module")
def api_server(stack: LocalStack) -> Iterator[DevServer]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
    server = serve("127.0.0.1", 0, stack, quiet=True)
    yield server
    server.shutdown()
    server.server_close()
