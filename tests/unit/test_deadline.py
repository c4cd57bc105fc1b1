"""One deadline per request: no call starts without time left, and every call's timeouts come
from what is left, for Daily (requests) and AWS (botocore) alike."""

from __future__ import annotations

import time

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from daily_rooms.daily_client import Budget, DailyClient
from daily_rooms.deadline import (
    MIN_CALL_SECONDS,
    Deadline,
    DeadlineSpent,
    bind_to_deadline,
    request_deadline,
)
from daily_rooms.errors import UpstreamError, UpstreamTimeout
from tests.helpers import silent_endpoint


def test_a_timeout_is_what_is_left_and_never_zero():
    deadline = Deadline(0.5)

    assert 0.4 < deadline.timeout(2.0) <= 0.5
    assert deadline.timeout(0.1) == 0.1
    with pytest.raises(DeadlineSpent):
        Deadline(MIN_CALL_SECONDS / 2).timeout(2.0)
    with pytest.raises(DeadlineSpent):
        Deadline(-3).timeout(2.0)


def test_a_wait_is_allowed_only_if_a_call_still_fits_after_it():
    deadline = Deadline(1.0)

    assert deadline.allows_wait(0.5)
    assert not deadline.allows_wait(1.0)


class FakeSession(requests.Session):
    """Records what the Daily client would send; answers `status` with an empty JSON object."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status
        self.sent: list[tuple[str, str, tuple[float, float]]] = []

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        self.sent.append((method, url, kwargs["timeout"]))
        response = requests.Response()
        response.status_code, response._content = self.status, b"{}"
        return response


def daily_answering(status: int) -> tuple[DailyClient, FakeSession]:
    session = FakeSession(status)
    return DailyClient(
        session, "http://127.0.0.1:9/v1", connect_timeout=2.0, read_timeout=4.0
    ), session


def test_a_spent_deadline_never_reaches_requests():
    client, session = daily_answering(200)
    with pytest.raises(UpstreamTimeout):
        client.request("POST", "/rooms", "key", Budget(Deadline(0)), {}, attempts=3)

    assert session.sent == []


def test_daily_timeouts_shrink_with_the_deadline():
    client, session = daily_answering(200)
    client.request("POST", "/rooms", "key", Budget(Deadline(0.3)), {})

    [(_, _, (connect, read))] = session.sent
    assert 0 < connect <= read <= 0.3


def test_the_call_budget_caps_daily_calls():
    client, session = daily_answering(500)
    budget = Budget(Deadline(5), calls=2)
    with pytest.raises(UpstreamError):
        client.request("POST", "/rooms", "key", budget, {}, attempts=5)

    assert (len(session.sent), budget.calls) == (2, 0)


@pytest.fixture
def aws_client():
    """A DynamoDB client whose requests never leave the process: the last before-send handler
    answers, after recording the read timeout botocore would use."""
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url="http://127.0.0.1:9",
        config=Config(read_timeout=2, retries={"max_attempts": 1}),
    )
    bind_to_deadline(client)
    seen: list[float | None] = []

    def answer(request, **_) -> AWSResponse:
        seen.append(request.context.get("read_timeout"))
        return AWSResponse(request.url, 200, {}, _RawBody(b"{}"))

    client.meta.events.register("before-send", answer)
    return client, seen


class _RawBody:
    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_):
        yield self.content


def test_aws_calls_get_their_read_timeout_from_the_deadline(aws_client):
    client, seen = aws_client
    with request_deadline(0.5):
        client.list_tables()
    client.list_tables()  # outside any request: the client's own timeouts

    assert 0.4 < seen[0] <= 0.5
    assert seen[1] is None


def test_an_aws_call_is_not_sent_when_the_deadline_is_spent(aws_client):
    client, seen = aws_client
    with request_deadline(0), pytest.raises(DeadlineSpent):
        client.list_tables()

    assert seen == []


@pytest.mark.parametrize(
    ("accepts", "timeout_error"),
    [(True, ReadTimeoutError), (False, ConnectTimeoutError)],
    ids=["never answers", "never accepts"],
)
def test_a_silent_aws_endpoint_gets_only_what_is_left_of_the_deadline(
    accepts: bool, timeout_error: type[Exception]
):
    """A real listener as the endpoint: with 1 s left, an attempt ends after about that second,
    not after the client's own connect or read timeout (5 s here)."""
    with silent_endpoint(accepts=accepts) as url:
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            endpoint_url=url,
            config=Config(connect_timeout=5, read_timeout=5, retries={"total_max_attempts": 1}),
        )
        bind_to_deadline(client)
        started = time.monotonic()
        with request_deadline(1.0), pytest.raises(timeout_error):
            client.list_tables()
        elapsed = time.monotonic() - started

    assert 0.9 < elapsed < 2.5
