"""CodeDeploy's PutLifecycleEventHookExecutionStatus and Lambda's Invoke on loopback, for the real
boto3 clients (moto has no CodeDeploy, and runs Lambda functions only in Docker).

CodeDeploy follows its API reference: every parameter is optional in the model, and the service
answers DeploymentIdRequiredException, InvalidDeploymentIdException (not `d-` and nine letters or
digits), DeploymentDoesNotExistException, InvalidLifecycleEventHookExecutionIdException,
InvalidLifecycleEventHookExecutionStatusException (only Succeeded and Failed may be passed) and
LifecycleEventAlreadyCompletedException. Lambda's Invoke answers the function's result, with
`X-Amz-Function-Error: Unhandled` when the function raised, and 404 ResourceNotFoundException for
a function it does not know.
"""

from __future__ import annotations

import json
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

DEPLOYMENT_ID = re.compile(r"d-[A-Z0-9]{9}")
JSON_1_1 = "application/x-amz-json-1.1"
REPORTABLE = {"Succeeded", "Failed"}
TARGET = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"
INVOKE_PATH = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")
Function = Callable[[dict[str, Any]], Any]


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class AwsDouble:
    """Deployments waiting on their hooks, and the function versions Invoke can call."""

    url: str = ""
    hooks: dict[str, dict[str, str | None]] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start_deployment(self, deployment_id: str, execution_id: str) -> None:
        """A deployment whose BeforeAllowTraffic hook awaits its status."""
        self.hooks[deployment_id] = {execution_id: None}

    def status(self, deployment_id: str, execution_id: str) -> str | None:
        return self.hooks[deployment_id][execution_id]

    def put_status(self, request: dict[str, Any]) -> dict[str, str]:
        deployment_id = request.get("deploymentId")
        execution_id = request.get("lifecycleEventHookExecutionId")
        status = request.get("status")
        if not deployment_id:
            raise ServiceError(400, "DeploymentIdRequiredException", "Deployment id is required")
        if not DEPLOYMENT_ID.fullmatch(deployment_id):
            raise ServiceError(400, "InvalidDeploymentIdException", "Invalid deployment id")
        with self.lock:
            if deployment_id not in self.hooks:
                message = f"The deployment {deployment_id} does not exist"
                raise ServiceError(400, "DeploymentDoesNotExistException", message)
            hooks = self.hooks[deployment_id]
            if execution_id not in hooks:
                message = "Invalid lifecycle event hook execution id"
                raise ServiceError(400, "InvalidLifecycleEventHookExecutionIdException", message)
            if status not in REPORTABLE:
                code = "InvalidLifecycleEventHookExecutionStatusException"
                raise ServiceError(400, code, f"Invalid status {status}: only Succeeded or Failed")
            if hooks[execution_id] is not None:
                message = "The lifecycle event is already completed"
                raise ServiceError(400, "LifecycleEventAlreadyCompletedException", message)
            hooks[execution_id] = status
        return {"lifecycleEventHookExecutionId": execution_id}

    def invoke(self, name: str, payload: bytes) -> tuple[bytes, dict[str, str]]:
        function = self.functions.get(name)
        if function is None:
            raise ServiceError(404, "ResourceNotFoundException", f"Function not found: {name}")
        try:
            return json.dumps(function(json.loads(payload))).encode(), {}
        except Exception as exc:
            error = {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            return json.dumps(error).encode(), {"X-Amz-Function-Error": "Unhandled"}


def _handler(double: AwsDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            invoked = INVOKE_PATH.fullmatch(self.path.split("?")[0])
            try:
                if invoked:
                    payload, headers = double.invoke(unquote(invoked["name"]), body)
                    headers["Content-Type"] = "application/json"
                    return self._answer(200, payload, headers)
                if self.headers.get("X-Amz-Target") != TARGET:
                    raise ServiceError(400, "UnknownOperationException", "Unknown operation")
                answer = json.dumps(double.put_status(json.loads(body or b"{}"))).encode()
                return self._answer(200, answer, {"Content-Type": JSON_1_1})
            except ServiceError as error:
                document = {"__type": error.code, "message": error.message}
                headers = {"Content-Type": JSON_1_1, "x-amzn-ErrorType": error.code}
                return self._answer(error.status, json.dumps(document).encode(), headers)

    return Handler


@contextmanager
def aws_double() -> Iterator[AwsDouble]:
    """The double, listening on a free loopback port while the block runs."""
    double = AwsDouble()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(double))
    double.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield double
    finally:
        server.shutdown()
        server.server_close()
