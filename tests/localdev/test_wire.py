"""The emulator on the wire: HTTP/1.1 with keep-alive, whole bodies (chunked too), and faults
that drop or outlast a connection without breaking the next request."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from localdev.daily_emulator import DailyEmulator
from tests.helpers.daily import KEY, Client, FakeClock

AUTH = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}


def connect(emulator: DailyEmulator) -> http.client.HTTPConnection:
    address = urlsplit(emulator.base_url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=5)


def send(connection: http.client.HTTPConnection, method: str, path: str, body: object = None):
    payload = None if body is None else json.dumps(body)
    connection.request(method, f"/v1{path}", body=payload, headers=AUTH)
    response = connection.getresponse()
    return response, response.read()


def test_requests_share_one_kept_alive_connection(api: Client, emulator: DailyEmulator) -> None:
    connection = connect(emulator)
    first, _ = send(connection, "POST", "/rooms", {"name": "one"})
    sock = connection.sock
    second, body = send(connection, "GET", "/rooms/one")
    error, _ = send(connection, "GET", "/rooms/ghost")
    last = connection.sock
    connection.close()

    assert (first.version, first.status, second.status, error.status) == (11, 200, 200, 404)
    assert sock is not None  # an HTTP/1.0 answer would have closed it
    assert last is sock
    assert second.getheader("Content-Length") == str(len(body))
    assert json.loads(body)["name"] == "one"


def test_a_chunked_body_is_read_whole(api: Client, emulator: DailyEmulator) -> None:
    with requests.Session() as session:
        chunks = iter([b'{"name": ', b'"chunked"}'])
        created = session.post(f"{emulator.base_url}/rooms", data=chunks, headers=AUTH, timeout=5)
        after = session.get(f"{emulator.base_url}/rooms/chunked", headers=AUTH, timeout=5)

    assert created.request.headers["Transfer-Encoding"] == "chunked"
    assert (created.status_code, created.json()["name"]) == (200, "chunked")
    assert after.json() == created.json()  # and nothing of it was left for the next request


def test_a_dropped_connection_is_closed_and_the_next_one_served(
    api: Client, emulator: DailyEmulator
) -> None:
    emulator.inject(method="POST", path_prefix="/rooms", drop=True)
    connection = connect(emulator)
    with pytest.raises(http.client.RemoteDisconnected):
        send(connection, "POST", "/rooms", {"name": "lost"})
    connection.close()
    again = connect(emulator)
    response, _ = send(again, "POST", "/rooms", {"name": "kept"})
    again.close()

    assert response.status == 200
    assert list(emulator.rooms) == ["kept"]


def test_a_client_that_gave_up_during_a_delay_does_not_break_the_next_request(
    api: Client, emulator: DailyEmulator, clock: FakeClock
) -> None:
    emulator.inject(method="POST", path_prefix="/rooms", delay=0.5)
    with pytest.raises(requests.Timeout):
        api("POST", "/rooms", json={"name": "late"}, timeout=0.1)
    assert emulator.wait_idle()

    assert api("GET", "/rooms/late").status_code == 200  # the slow request was still handled
    assert api("POST", "/rooms", json={"name": "next"}).status_code == 200


def test_stop_ends_kept_alive_connections() -> None:
    with DailyEmulator(api_key=KEY) as daily:
        connection = connect(daily)
        assert send(connection, "GET", "/")[0].status == 200
        daily.stop()
        with pytest.raises((http.client.HTTPException, OSError)):
            send(connection, "GET", "/")
        connection.close()
