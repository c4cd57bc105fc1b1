"""DynamoDB's write atomicity and transaction conflicts, in front of moto's server.

What DynamoDB does (developer guide, "Transaction conflict handling"):
- each write is atomic: a condition and the update it guards are one step;
- a `TransactWriteItems` that touches an item another transaction is writing is cancelled:
  `TransactionCanceledException`, with reason `TransactionConflict` for that item and `None`
  for the others;
- a `PutItem`, `UpdateItem` or `DeleteItem` on an item inside an ongoing transaction fails with
  `TransactionConflictException`;
- plain writes to one item serialize; they do not conflict with each other;
- a `TransactWriteItems` repeating the `ClientRequestToken` of one that succeeded less than
  10 minutes ago succeeds without writing anything (`IdempotentParameterMismatchException` if its
  other parameters differ), and one repeating the token of a transaction still running gets
  `TransactionInProgressException`.

moto checks a condition and applies the update as separate steps, so concurrent requests can both
pass a check, it has no notion of an ongoing transaction, and it ignores `ClientRequestToken`: a
retry of a transaction whose answer was lost is applied twice. `DynamoDBConflicts` wraps moto's WSGI
application (the seam `start_local_stack(wrap_aws=...)` offers): it applies one write at a time
and holds every transaction's items from the moment the request arrives until moto has answered
it; a write reaching one of them meanwhile is answered the way DynamoDB answers it. For a
deterministic sequence, `conflict_every(n)` also refuses every n-th write with a conflict,
`pause()` keeps admitted transactions in flight until `resume()`, and `answer_late(seconds)`
applies the next transaction at once but answers it only after `seconds`, as when its answer is
lost on the way back.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
TARGET_PREFIX = "DynamoDB_20120810."
PLAIN_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
TOKEN_SECONDS = 600  # a ClientRequestToken's idempotency window, from the transaction's end
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class DynamoDBConflicts:
    """Wraps moto's WSGI application; shared by every client of that server, in any process."""

    def __init__(self) -> None:
        self.app: WsgiApp | None = None
        self.keys: dict[str, list[str]] = {}  # each table's key attributes, seen at CreateTable
        self.lock = threading.Lock()  # guards the fields below
        self.apply = threading.Lock()  # one write applied at a time
        self.held: set[str] = set()  # items of the transactions in flight
        self.proceed = threading.Event()
        self.proceed.set()
        self.every = 0
        self.writes = 0
        self.conflicts = 0
        self.late = 0.0  # the next transaction's answer waits this long
        # ClientRequestToken -> (the rest of its request, when it ended or None while running)
        self.tokens: dict[str, tuple[str, float | None]] = {}

    def wrap(self, app: WsgiApp) -> WsgiApp:
        self.app = app
        return self

    def reset(self) -> None:
        self.resume()
        self.conflict_every(0)
        with self.lock:
            self.late = 0.0
            self.tokens.clear()

    def answer_late(self, seconds: float) -> None:
        """Apply the next transaction at once, and answer it `seconds` later."""
        with self.lock:
            self.late = seconds

    def conflict_every(self, every: int) -> None:
        """Refuse every `every`-th write from now on (0: only writes that really overlap)."""
        with self.lock:
            self.every, self.writes, self.conflicts = every, 0, 0

    def pause(self) -> None:
        """Keep transactions admitted from now on in flight (holding their items) until resume."""
        self.proceed.clear()

    def resume(self) -> None:
        self.proceed.set()

    @property
    def items_in_flight(self) -> int:
        with self.lock:
            return len(self.held)

    def _item(self, table: str, key_or_item: dict[str, Any]) -> str:
        key = {name: key_or_item.get(name) for name in self.keys.get(table, [])}
        return json.dumps([table, key], sort_keys=True)

    def _admit(self, items: list[str], *, transaction: bool) -> list[bool]:
        """Count one write and say which of its items conflict; hold them if none does."""
        with self.lock:
            self.writes += 1
            conflicting = [item in self.held for item in items]
            if self.every and self.writes % self.every == 0:
                conflicting[-1] = True
            if any(conflicting):
                self.conflicts += 1
            elif transaction:
                self.held.update(items)
            return conflicting

    def _claim(self, token: str, fingerprint: str) -> str | None:
        """What a transaction carrying `token` gets instead of running: an error code, "done"
        for a repeat of one that succeeded, or None (it runs, and holds the token meanwhile)."""
        with self.lock:
            known, ended = self.tokens.get(token, (None, None))
            if known is not None and ended is not None and time.time() - ended > TOKEN_SECONDS:
                known = None
            if known is None:
                self.tokens[token] = (fingerprint, None)
                return None
            if known != fingerprint:
                return "IdempotentParameterMismatchException"
            return "done" if ended is not None else "TransactionInProgressException"

    def _run(
        self, environ: dict, start_response: Callable, token: str, items: list[str]
    ) -> list[bytes]:
        """Apply one admitted transaction, then free its items; its token is kept only if it
        succeeded."""
        status = []

        def start(line: str, headers: list, *args: Any) -> Any:
            status.append(line)
            return start_response(line, headers, *args)

        try:
            self.proceed.wait()
            with self.apply:
                answer = list(self.app(environ, start))
        finally:
            with self.lock:
                self.held.difference_update(items)
                late, self.late = self.late, 0.0
                if status and status[0].startswith("200"):
                    self.tokens[token] = (self.tokens[token][0], time.time())
                else:
                    self.tokens.pop(token, None)
        time.sleep(late)
        return answer

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        assert self.app is not None, "wrap() moto's application first"
        operation = environ.get("HTTP_X_AMZ_TARGET", "").removeprefix(TARGET_PREFIX)
        if operation not in PLAIN_WRITES | {"TransactWriteItems", "CreateTable"}:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        request = json.loads(body or b"{}")
        if operation == "CreateTable":
            self.keys[request["TableName"]] = [k["AttributeName"] for k in request["KeySchema"]]
            return self.app(environ, start_response)
        if operation in PLAIN_WRITES:
            item = self._item(request["TableName"], request.get("Key") or request.get("Item", {}))
            if any(self._admit([item], transaction=False)):
                return _error(start_response, "TransactionConflictException", CONFLICT_MESSAGE)
            with self.apply:
                return list(self.app(environ, start_response))
        token = request.pop("ClientRequestToken", None) or str(uuid.uuid4())
        claim = self._claim(token, json.dumps(request, sort_keys=True))
        if claim == "done":
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
            return [b"{}"]
        if claim is not None:
            return _error(start_response, claim, f"{claim.removesuffix('Exception')}: {token}")
        items = []
        for entry in request["TransactItems"]:
            [details] = entry.values()
            items.append(self._item(details["TableName"], details.get("Key") or details["Item"]))
        conflicting = self._admit(items, transaction=True)
        if any(conflicting):
            codes = ["TransactionConflict" if hit else "None" for hit in conflicting]
            message = "Transaction cancelled, please refer cancellation reasons for specific "
            message += f"reasons [{', '.join(codes)}]"
            reasons = [
                {"Code": code, "Message": CONFLICT_MESSAGE} if code != "None" else {"Code": code}
                for code in codes
            ]
            extra = {"CancellationReasons": reasons}
            with self.lock:
                self.tokens.pop(token, None)
            return _error(start_response, "TransactionCanceledException", message, extra)
        return self._run(environ, start_response, token, items)


def _error(start: Callable, code: str, message: str, extra: dict | None = None) -> list[bytes]:
    """DynamoDB's JSON error answer, as botocore parses it."""
    body = json.dumps({"__type": ERROR_PREFIX + code, "message": message, **(extra or {})})
    start("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
    return [body.encode()]
