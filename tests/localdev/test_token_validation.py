"""GET /meeting-tokens/:token: REST-minted and self-signed tokens, `d`, `exp`, `nbf`, ignoreNbf."""

import pytest

from localdev.daily_emulator import DailyEmulator
from tests.helpers.daily import KEY, START, Client, FakeClock, assert_error, sign


def mint(api: Client, **properties) -> str:
    response = api("POST", "/meeting-tokens", json={"properties": properties})
    assert response.status_code == 200
    return response.json()["token"]


def test_minted_token_validates_with_its_long_property_names(api: Client, clock: FakeClock) -> None:
    properties = {"room_name": "r1", "is_owner": True, "exp": clock.now + 60, "lang": "de"}
    response = api("GET", f"/meeting-tokens/{mint(api, **properties)}")
    assert response.status_code == 200
    assert response.json() == properties


def test_token_that_is_not_yet_valid_needs_ignore_nbf(api: Client, clock: FakeClock) -> None:
    token = mint(api, room_name="r1", nbf=clock.now + 60)
    path = f"/meeting-tokens/{token}"
    assert_error(api("GET", path), 400, "invalid-request-error", "nbf")
    assert api("GET", f"{path}?ignoreNbf=true").json() == {"room_name": "r1", "nbf": START + 60}
    clock.advance(60)
    assert api("GET", path).status_code == 200


def test_expired_token_is_refused(api: Client, clock: FakeClock) -> None:
    token = mint(api, room_name="r1", exp=clock.now + 60)
    clock.advance(60)
    assert_error(api("GET", f"/meeting-tokens/{token}"), 400, "invalid-request-error", "expired")


def test_self_signed_token_validates_with_long_property_names(
    api: Client, emulator: DailyEmulator, clock: FakeClock
) -> None:
    now = int(clock.now)
    claims = {"r": "r1", "o": True, "uil": "fr", "k": True, "iat": now, "d": emulator.domain_id}
    response = api("GET", f"/meeting-tokens/{sign(claims)}")
    assert response.status_code == 200
    assert response.json() == {"room_name": "r1", "is_owner": True, "lang": "fr", "knocking": True}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"key": "another-key"}, "not valid"),
        ({"d": "3f1c1b8e-0000-4000-8000-000000000000"}, "not valid for this domain"),
        ({"d": None}, "not valid for this domain"),
        ({"exp": int(START)}, "expired"),
        ({"iat": None}, "needs the claims r, iat and d"),
        ({"iat": "1700000000"}, "needs the claims r, iat and d"),
        ({"r": None}, "needs the claims r, iat and d"),
        ({"r": 7}, "needs the claims r, iat and d"),
    ],
)
def test_invalid_self_signed_tokens_are_refused(
    api: Client, emulator: DailyEmulator, change: dict, problem: str
) -> None:
    claims = {
        "r": "r1",
        "o": True,
        "exp": int(START) + 60,
        "iat": int(START),
        "d": emulator.domain_id,
    }
    key = change.pop("key", KEY)
    claims = {name: value for name, value in {**claims, **change}.items() if value is not None}
    token = sign(claims, key)
    assert_error(api("GET", f"/meeting-tokens/{token}"), 400, "invalid-request-error", problem)


def test_a_minted_token_for_every_room_needs_no_r(api: Client, clock: FakeClock) -> None:
    """Without room_name a REST-minted token opens every room: only self-signed ones need r."""
    token = mint(api, is_owner=True)
    assert api("GET", f"/meeting-tokens/{token}").json() == {"is_owner": True}


def test_token_of_a_rotated_key_is_refused(
    api: Client, emulator: DailyEmulator, clock: FakeClock
) -> None:
    token = mint(api, room_name="r1")
    emulator.set_api_key("new-key")
    try:
        response = api("GET", f"/meeting-tokens/{token}", key="new-key")
    finally:
        emulator.set_api_key(KEY)
    assert_error(response, 400, "invalid-request-error", "not valid")


def test_garbage_token_is_refused(api: Client) -> None:
    assert_error(api("GET", "/meeting-tokens/not.a-token"), 400, "invalid-request-error")
