"""The conformance table: every documented room and token property, generated from the one list.

Each property is accepted with its type and round-tripped (into the room's `config`, or into the
token's payload and back out of validation), refused with a value of another type with Daily's
error body, and, for rooms, left out of `config` at its documented default.
"""

import pytest

from localdev.daily_emulator import DailyEmulator
from localdev.daily_reference import (
    KIND_DESCRIPTIONS,
    KIND_TYPES,
    ROOM_PROPERTIES,
    TOKEN_PROPERTIES,
    Property,
    accepts,
    shown,
)
from tests.helpers.daily import Client, FakeClock, decode_segment, example_of, wrong_value_of

ROOM_IDS = [prop.name for prop in ROOM_PROPERTIES]
TOKEN_IDS = [prop.name for prop in TOKEN_PROPERTIES]
WITH_DEFAULTS = [prop for prop in ROOM_PROPERTIES if prop.has_default]


def type_error(prop: Property, value: object) -> dict:
    expected = KIND_DESCRIPTIONS[prop.kind]
    return {
        "error": "invalid-request-error",
        "info": f"{prop.name} was '{shown(value)}' but should be {expected}",
    }


def test_the_list_holds_every_documented_property_once() -> None:
    assert (len(ROOM_PROPERTIES), len(TOKEN_PROPERTIES)) == (48, 23)
    assert len(set(ROOM_IDS)) == len(ROOM_IDS)
    assert len(set(TOKEN_IDS)) == len(TOKEN_IDS)
    claims = [prop.claim for prop in TOKEN_PROPERTIES]
    assert None not in claims
    assert len(set(claims)) == len(claims)
    for prop in (*ROOM_PROPERTIES, *TOKEN_PROPERTIES):
        assert prop.kind in KIND_TYPES
        assert not prop.has_default or accepts(prop.kind, prop.default), prop.name
        assert accepts(prop.kind, example_of(prop, 0)), prop.name
        assert not accepts(prop.kind, wrong_value_of(prop)), prop.name


# --- rooms -----------------------------------------------------------------------------------


@pytest.mark.parametrize("prop", ROOM_PROPERTIES, ids=ROOM_IDS)
def test_room_property_is_accepted_and_round_trips_into_config(
    api: Client, clock: FakeClock, prop: Property
) -> None:
    value = example_of(prop, clock.now)
    created = api("POST", "/rooms", json={"name": "r", "properties": {prop.name: value}})
    assert created.status_code == 200, created.text
    assert created.json()["config"] == {prop.name: value}
    assert api("GET", "/rooms/r").json()["config"] == {prop.name: value}


@pytest.mark.parametrize("prop", ROOM_PROPERTIES, ids=ROOM_IDS)
def test_room_property_of_another_type_is_refused_with_dailys_error(
    api: Client, emulator: DailyEmulator, prop: Property
) -> None:
    value = wrong_value_of(prop)
    response = api("POST", "/rooms", json={"properties": {prop.name: value}})
    assert (response.status_code, response.json()) == (400, type_error(prop, value))
    assert emulator.rooms == {}


@pytest.mark.parametrize("prop", WITH_DEFAULTS, ids=[prop.name for prop in WITH_DEFAULTS])
def test_room_property_at_its_documented_default_is_not_in_config(
    api: Client, prop: Property
) -> None:
    created = api("POST", "/rooms", json={"properties": {prop.name: prop.default}})
    assert (created.status_code, created.json()["config"]) == (200, {})


def test_every_room_property_at_once(api: Client, clock: FakeClock) -> None:
    properties = {prop.name: example_of(prop, clock.now) for prop in ROOM_PROPERTIES}
    created = api("POST", "/rooms", json={"properties": properties})
    assert (created.status_code, created.json()["config"]) == (200, properties)


# --- meeting tokens --------------------------------------------------------------------------


@pytest.mark.parametrize("prop", TOKEN_PROPERTIES, ids=TOKEN_IDS)
def test_token_property_is_accepted_signed_under_its_claim_and_validated(
    api: Client, emulator: DailyEmulator, clock: FakeClock, prop: Property
) -> None:
    value = example_of(prop, clock.now)
    minted = api("POST", "/meeting-tokens", json={"properties": {prop.name: value}})
    assert minted.status_code == 200, minted.text
    token = minted.json()["token"]
    payload = decode_segment(token.split(".")[1])
    assert payload == {prop.claim: value, "d": emulator.domain_id, "iat": int(clock.now)}
    validated = api("GET", f"/meeting-tokens/{token}?ignoreNbf=true")
    assert (validated.status_code, validated.json()) == (200, {prop.name: value})


@pytest.mark.parametrize("prop", TOKEN_PROPERTIES, ids=TOKEN_IDS)
def test_token_property_of_another_type_is_refused_with_dailys_error(
    api: Client, emulator: DailyEmulator, prop: Property
) -> None:
    value = wrong_value_of(prop)
    response = api("POST", "/meeting-tokens", json={"properties": {prop.name: value}})
    assert (response.status_code, response.json()) == (400, type_error(prop, value))
    assert emulator.tokens == []


def test_every_token_property_at_once(api: Client, clock: FakeClock) -> None:
    properties = {prop.name: example_of(prop, clock.now) for prop in TOKEN_PROPERTIES}
    minted = api("POST", "/meeting-tokens", json={"properties": properties})
    token = minted.json()["token"]
    validated = api("GET", f"/meeting-tokens/{token}?ignoreNbf=true")
    assert (validated.status_code, validated.json()) == (200, properties)
