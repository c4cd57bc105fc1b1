"""What keeps a create from spending quota or time it should not: the deadline inside the
function's remaining time, the key's domain known before quota is spent, and the quota write's
retries leaving time for Daily."""

from __future__ import annotations

import json
import time

from localdev.local_stack import STATE_TABLE, LambdaContext
from tests.helpers import load_event
from tests.helpers.creates import create_event


def test_the_deadline_fits_in_the_time_lambda_has_left(fresh_stack, create_room):
    """With 4 s left of the invocation (a slow cold start, say) and a Daily that never answers,
    the answer is a JSON 504 before Lambda would stop the function, not after the 7 s deadline."""
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", delay=3.5, times=3)
    event = create_event()
    event["headers"] |= fresh_stack.cdn_headers("198.51.100.30")
    context = LambdaContext(function_name="create_room", timeout_seconds=4.0)

    result = create_room.raw(event, context)
    left = context.get_remaining_time_in_millis() / 1000

    assert result["statusCode"] == 504
    assert json.loads(result["body"])["error"] == "upstream_timeout"
    assert left > 0.5  # the margin is 1.5 s: the answer came well before the function's end


def test_a_revoked_key_in_a_cold_container_spends_no_quota(fresh_stack, create_room):
    """The key's domain (`GET /v1/`, once per container) is asked before the quota write, so a
    key Daily refuses costs the viewer nothing. (The container is new, the secret has no domain.)"""
    fresh_stack.daily.set_api_key("revoked-in-the-dashboard")

    status, _, body = create_room(load_event("create_room/create.json"))

    assert (status, body["error"]) == (502, "upstream_auth")
    assert fresh_stack.client("dynamodb").scan(TableName=STATE_TABLE)["Items"] == []


def test_conflicts_until_the_end_leave_daily_its_share_of_the_deadline(
    fresh_stack, create_room, dynamodb
):
    """With every write conflicting, the quota write stops retrying while another attempt would
    still fit (1.5 s, its client's timeouts), so a write that then succeeds leaves Daily that
    much: a 503 then, not a write that succeeds with nothing left for Daily."""
    deadline = 3.0
    create_room = create_room.new(request_deadline=deadline)
    dynamodb.conflict_every(1)

    started = time.monotonic()
    status, headers, body = create_room(load_event("create_room/create.json"))
    elapsed = time.monotonic() - started

    assert (status, body["error"], headers["Retry-After"]) == (503, "limiter_unavailable", "30")
    assert dynamodb.conflicts >= 5  # it did retry
    assert deadline - elapsed > 0.5  # Daily would still have had time
