"""One deadline per request: no call starts that could end after it. Daily's timeouts (requests)
are what is left; an AWS attempt (botocore) is sent only while its client's whole connect and
read timeouts still fit, and those are sized so a create's AWS calls fit the deadline."""

from __future__ import annotations

import time

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from daily_rooms import quota, stored_secrets
from daily_rooms.daily_client import Budget, DailyClient
from daily_rooms.deadline import (
    MIN_CALL_SECONDS,
    Deadline,
    DeadlineSpent,
    attempt_seconds,
    bind_to_deadline,
    current,
    request_deadline,
)
from daily_rooms.errors import UpstreamError, UpstreamTimeout
from daily_rooms.settings import Settings
from tests.helpers import silent_endpoint
from tests.template.conftest import load_template


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
    assert deadline.fits(0.5)
    assert not deadline.fits(1.5)


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


ATTEMPT = Config(connect_timeout=0.5, read_timeout=0.5, retries={"total_max_attempts": 1})


def dynamodb(url: str = "http://127.0.0.1:9", config: Config = ATTEMPT):
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url=url,
        config=config,
    )
    return bind_to_deadline(client)


class _RawBody:
    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_):
        yield self.content


def answering(client, status: int = 200, *, taking: float = 0.0) -> list[float]:
    """Make the client's attempts never leave the process: the last before-send handler answers
    `status` after `taking` seconds. Returns, per attempt sent, the deadline left at its start."""
    sent: list[float] = []

    def answer(request, **_) -> AWSResponse:
        sent.append(current().remaining())
        time.sleep(taking)
        return AWSResponse(request.url, status, {}, _RawBody(b"{}"))

    client.meta.events.register("before-send", answer)
    return sent


def test_an_aws_attempt_is_sent_while_its_timeouts_fit_in_the_deadline():
    client = dynamodb()
    sent = answering(client)
    with request_deadline(attempt_seconds(ATTEMPT) + 5):
        client.list_tables()
    client.list_tables()  # outside any request: the client's own timeouts only

    assert len(sent) == 2


@pytest.mark.parametrize("left", [0.0, 0.5, 0.9], ids=lambda left: f"{left} s left")
def test_an_aws_attempt_that_could_outlast_the_deadline_is_not_sent(left: float):
    """1 s left or less, and the attempt could take 0.5 s to connect and 0.5 s to read."""
    client = dynamodb()
    sent = answering(client)
    with request_deadline(left), pytest.raises(DeadlineSpent):
        client.list_tables()

    assert sent == []


def test_a_botocore_retry_is_refused_once_it_no_longer_fits():
    """botocore retries a 503 (standard mode), and checks the deadline again before the retry:
    the first attempt used 1.1 s of 2 s, so a second one (up to 1 s) would end too late."""
    config = ATTEMPT.merge(Config(retries={"total_max_attempts": 3, "mode": "standard"}))
    client = dynamodb(config=config)
    sent = answering(client, 503, taking=1.1)
    with request_deadline(2.0), pytest.raises(DeadlineSpent):
        client.list_tables()

    assert len(sent) == 1


@pytest.mark.parametrize(
    ("accepts", "timeout_error"),
    [(True, ReadTimeoutError), (False, ConnectTimeoutError)],
    ids=["never answers", "never accepts"],
)
def test_a_silent_aws_endpoint_ends_the_attempt_inside_the_deadline(
    accepts: bool, timeout_error: type[Exception]
):
    """A real listener as the endpoint: the attempt ends with the client's own timeout (0.5 s
    to connect, 0.5 s to read), well before the 3 s deadline."""
    with silent_endpoint(accepts=accepts) as url:
        client = dynamodb(url)
        started = time.monotonic()
        with request_deadline(3.0) as deadline, pytest.raises(timeout_error):
            client.list_tables()
        elapsed = time.monotonic() - started

    assert elapsed < 3.0
    assert deadline.remaining() > 0


def test_a_create_s_aws_calls_at_their_slowest_fit_in_the_deadline():
    """Each AWS client makes one attempt per call (its callers retry, inside the deadline), of
    at most connect + read timeout. A cold create's secret read and its first write, both as
    slow as that, take at most half of the deadline (the rest is Daily's), which ends before the
    function's timeout."""
    configs = [stored_secrets.CLIENT_CONFIG, quota.CLIENT_CONFIG]
    worst = [c.retries["total_max_attempts"] * attempt_seconds(c) for c in configs]
    deadline = Settings.from_env().request_deadline

    assert all(config.retries["total_max_attempts"] == 1 for config in configs)
    assert sum(worst) <= deadline / 2
    assert deadline < load_template()["Globals"]["Function"]["Timeout"]
