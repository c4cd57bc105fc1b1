"""DynamoDB cancels writes that conflict with a transaction; a conflict must not become a refusal.

The conflicts come from tests/helpers/dynamodb.py, which gives moto's server DynamoDB's behaviour;
the first tests check it against the documented behaviour.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localdev.local_stack import STATE_TABLE
from tests.helpers.creates import create_event, keyed, state_items, with_limits


def counter(item_id: str, limit: int = 100) -> dict:
    return {
        "Update": {
            "TableName": STATE_TABLE,
            "Key": {"id": {"S": item_id}},
            "UpdateExpression": "ADD hits :one",
            "ConditionExpression": "attribute_not_exists(hits) OR hits < :limit",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(limit)}},
        }
    }


def hits(stack) -> dict[str, int]:
    items = stack.client("dynamodb").scan(TableName=STATE_TABLE)["Items"]
    return {item["id"]["S"]: int(item.get("hits", {"N": "0"})["N"]) for item in items}


def error_of(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


@contextmanager
def transaction_in_flight(
    stack, conflicts, *items: str, token: str | None = None
) -> Iterator[None]:
    """A transaction on `items` that has arrived and is not applied yet, as long as this lasts
    (with this ClientRequestToken, or botocore's own)."""
    conflicts.pause()
    request = {"TransactItems": [counter(item) for item in items]}
    if token is not None:
        request["ClientRequestToken"] = token
    writer = threading.Thread(target=stack.client("dynamodb").transact_write_items, kwargs=request)
    writer.start()
    try:
        deadline = time.monotonic() + 5
        while conflicts.items_in_flight < len(items) and time.monotonic() < deadline:
            time.sleep(0.01)
        yield
    finally:
        conflicts.resume()
        writer.join()


def test_a_transaction_touching_an_item_of_one_in_flight_is_cancelled(fresh_stack, dynamodb):
    client = fresh_stack.client("dynamodb")
    with transaction_in_flight(fresh_stack, dynamodb, "a", "hot"):
        response = error_of(
            lambda: client.transact_write_items(TransactItems=[counter("b"), counter("hot")])
        )

    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in response["CancellationReasons"]] == ["None", "TransactionConflict"]
    assert "[None, TransactionConflict]" in response["Error"]["Message"]
    assert hits(fresh_stack) == {"a": 1, "hot": 1}  # the first applied, nothing of the second


def test_a_plain_write_on_an_item_in_a_transaction_gets_transaction_conflict(fresh_stack, dynamodb):
    client = fresh_stack.client("dynamodb")
    with transaction_in_flight(fresh_stack, dynamodb, "hot"):
        response = error_of(
            lambda: client.put_item(TableName=STATE_TABLE, Item={"id": {"S": "hot"}})
        )
        client.put_item(TableName=STATE_TABLE, Item={"id": {"S": "cold"}})  # no conflict

    assert response["Error"]["Code"] == "TransactionConflictException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert hits(fresh_stack) == {"hot": 1, "cold": 0}


def test_transactions_on_other_items_and_plain_writes_do_not_conflict(fresh_stack, dynamodb):
    client = fresh_stack.client("dynamodb")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: client.update_item(**counter("hot")["Update"]), range(40)))
    client.transact_write_items(TransactItems=[counter("x")])
    client.transact_write_items(TransactItems=[counter("x")])

    assert hits(fresh_stack) == {"hot": 40, "x": 2}  # plain writes serialize, exactly
    assert dynamodb.conflicts == 0


def test_a_scheduled_conflict_has_the_same_shape(fresh_stack, dynamodb):
    client = fresh_stack.client("dynamodb")
    dynamodb.conflict_every(2)
    client.transact_write_items(TransactItems=[counter("a"), counter("hot")])
    response = error_of(
        lambda: client.transact_write_items(TransactItems=[counter("b"), counter("hot")])
    )

    assert [r["Code"] for r in response["CancellationReasons"]] == ["None", "TransactionConflict"]
    assert hits(fresh_stack) == {"a": 1, "hot": 1}


def test_a_repeated_request_token_is_applied_once_and_only_with_the_same_items(
    fresh_stack, dynamodb
):
    # One attempt per call: each answer as DynamoDB gives it, not after botocore's retries.
    client = fresh_stack.client("dynamodb", Config(retries={"total_max_attempts": 1}))
    errors = client.exceptions  # names from botocore's model of DynamoDB
    client.transact_write_items(TransactItems=[counter("a")], ClientRequestToken="t1")
    client.transact_write_items(TransactItems=[counter("a")], ClientRequestToken="t1")
    with pytest.raises(errors.IdempotentParameterMismatchException):
        client.transact_write_items(TransactItems=[counter("b")], ClientRequestToken="t1")
    with (
        transaction_in_flight(fresh_stack, dynamodb, "c", token="t2"),
        pytest.raises(errors.TransactionInProgressException),
    ):
        client.transact_write_items(TransactItems=[counter("c")], ClientRequestToken="t2")

    assert hits(fresh_stack) == {"a": 1, "c": 1}


def test_a_create_whose_quota_answer_is_lost_is_counted_once(roomy_daily, create_room, dynamodb):
    from daily_rooms import quota

    # The write is applied, and its answer comes after the client has given up on it: the
    # create retries with the same ClientRequestToken, which DynamoDB does not apply twice.
    dynamodb.answer_late(quota.CLIENT_CONFIG.read_timeout + 0.5)
    status, _, body = create_room(create_event())

    assert status == 201, body
    assert state_items(roomy_daily) == {"viewer": 1, "day": 1}
    assert len(roomy_daily.daily.rooms) == 1


def test_50_creates_with_every_third_write_conflicting_are_all_answered_with_exact_limits(
    roomy_daily, create_room, dynamodb
):
    create_room = with_limits(create_room, per_viewer=5, per_day=1000)  # all in one window
    viewers = [f"198.51.100.{n}" for n in range(10)]
    dynamodb.conflict_every(3)

    created = [create_room(keyed(f"key-{n:04d}"), viewer=viewers[n % 10]) for n in range(50)]
    refused = [create_room(create_event(), viewer=viewer) for viewer in viewers]

    assert [status for status, _, _ in created] == [201] * 50
    assert {(status, body["error"]) for status, _, body in refused} == {(429, "rate_limited")}
    assert dynamodb.conflicts >= 25  # (50 + retries) / 3: the schedule held
    assert len(roomy_daily.daily.rooms) == 50
    assert state_items(roomy_daily) == {"key": 50, "viewer": 50, "day": 50}
