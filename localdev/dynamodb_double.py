"""DynamoDB's write atomicity and transaction conflicts, on top of moto's DynamoDB backend.

What DynamoDB does (developer guide, "Transaction conflict handling"):
- each write is atomic: a condition and the update it guards are one step;
- a `TransactWriteItems` that touches an item another transaction is writing is cancelled:
  `TransactionCanceledException`, with reason `TransactionConflict` for that item and `None`
  for the others;
- a `PutItem`, `UpdateItem` or `DeleteItem` on an item inside an ongoing transaction fails with
  `TransactionConflictException`;
- plain writes to one item serialize; they do not conflict with each other.

What moto does: it checks a condition and applies the update as separate steps, so concurrent
requests can both pass a check, and it has no notion of an ongoing transaction, so conflicts never
happen. This double makes each write atomic (one lock) and holds every transaction's items from
the moment the transaction arrives until it is applied: a write reaching one of them meanwhile is
refused the way DynamoDB refuses it. For tests that need a deterministic sequence,
`conflict_every(n)` also refuses every n-th write with a conflict, and `pause()` keeps admitted
transactions in flight until `resume()`.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from moto.dynamodb.exceptions import (
    ERROR_TYPE_PREFIX,
    DynamodbException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
PLAIN_WRITES = ("put_item", "update_item", "delete_item")


class TransactionConflictException(DynamodbException):
    error_type = ERROR_TYPE_PREFIX + "TransactionConflictException"

    def __init__(self) -> None:
        super().__init__(self.error_type, message=CONFLICT_MESSAGE)


def _item_id(backend: DynamoDBBackend, table_name: str, key_or_item: dict[str, Any]) -> str:
    table = backend.get_table(table_name)
    names = [table.hash_key_attr, table.range_key_attr]
    key = {name: key_or_item.get(name) for name in names if name}
    return json.dumps([table_name, key], sort_keys=True)


def _transaction_items(backend: DynamoDBBackend, transact_items: list[dict]) -> list[str]:
    items = []
    for entry in transact_items:
        [(operation, details)] = entry.items()
        key = details["Item"] if operation == "Put" else details["Key"]
        items.append(_item_id(backend, details["TableName"], key))
    return items


class DynamoDBDouble:
    """Installed once per process on moto's backend class; shared by every moto server in it."""

    def __init__(self) -> None:
        self._state = threading.Lock()  # guards the fields below
        self._apply = threading.RLock()  # one write applied at a time
        self._held: set[str] = set()  # items of the transactions in flight
        self._applying = threading.local()
        self._proceed = threading.Event()
        self._proceed.set()
        self._every = 0
        self.writes = 0
        self.conflicts = 0
        self._installed = False

    def conflict_every(self, every: int) -> None:
        """Refuse every `every`-th write from now on (0: only writes that really overlap)."""
        with self._state:
            self._every, self.writes, self.conflicts = every, 0, 0

    def pause(self) -> None:
        """Keep transactions admitted from now on in flight (holding their items) until resume."""
        self._proceed.clear()

    def resume(self) -> None:
        self._proceed.set()

    @property
    def items_in_flight(self) -> int:
        with self._state:
            return len(self._held)

    def _admit(self, items: list[str], *, transaction: bool) -> list[bool]:
        """Count one write and say which of its items conflict; hold them if none does."""
        with self._state:
            self.writes += 1
            conflicting = [item in self._held for item in items]
            if self._every and self.writes % self._every == 0:
                conflicting[-1] = True
            if any(conflicting):
                self.conflicts += 1
            elif transaction:
                self._held.update(items)
            return conflicting

    def _release(self, items: list[str]) -> None:
        with self._state:
            self._held.difference_update(items)

    def transact_write_items(
        self, original: Any, backend: DynamoDBBackend, transact_items: list[dict], **kwargs: Any
    ) -> Any:
        items = _transaction_items(backend, transact_items)
        conflicting = self._admit(items, transaction=True)
        if any(conflicting):
            reasons = [
                ("TransactionConflict", CONFLICT_MESSAGE, None) if hit else (None, None, None)
                for hit in conflicting
            ]
            raise TransactionCanceledException(reasons)
        try:
            self._proceed.wait()
            with self._apply:
                self._applying.active = True
                try:
                    return original(backend, transact_items, **kwargs)
                finally:
                    self._applying.active = False
        finally:
            self._release(items)

    def plain_write(
        self, original: Any, backend: DynamoDBBackend, table_name: str, key: dict, *args, **kwargs
    ) -> Any:
        if getattr(self._applying, "active", False):  # a step of the transaction being applied
            return original(backend, table_name, key, *args, **kwargs)
        if any(self._admit([_item_id(backend, table_name, key)], transaction=False)):
            raise TransactionConflictException()
        with self._apply:
            return original(backend, table_name, key, *args, **kwargs)

    def install(self) -> None:
        """Wrap moto's backend methods (once)."""
        if self._installed:
            return
        self._installed = True
        methods = {"transact_write_items": self.transact_write_items}
        methods.update(dict.fromkeys(PLAIN_WRITES, self.plain_write))
        for name, wrapper in methods.items():
            original = getattr(DynamoDBBackend, name)

            def wrapped(backend, *args, _original=original, _wrapper=wrapper, **kwargs):
                return _wrapper(_original, backend, *args, **kwargs)

            setattr(DynamoDBBackend, name, functools.wraps(original)(wrapped))


DYNAMODB = DynamoDBDouble()
