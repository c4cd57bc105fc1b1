"""POST /rooms/:name (update) and GET /rooms (list with limit, starting_after, ending_before)."""

import pytest

from tests.localdev.support import Client, FakeClock, assert_error


def create(api: Client, name: str, **properties) -> dict:
    response = api("POST", "/rooms", json={"name": name, "properties": properties})
    assert response.status_code == 200
    return response.json()


# --- update ----------------------------------------------------------------------------------


def test_update_sets_properties_and_privacy_and_keeps_the_rest(
    api: Client, clock: FakeClock
) -> None:
    room = create(api, "r", enable_chat=True, exp=clock.now + 600)
    body = {"privacy": "private", "properties": {"max_participants": 4, "exp": clock.now + 900}}
    response = api("POST", "/rooms/r", json=body)
    assert response.status_code == 200
    updated = response.json()
    assert updated == {
        **room,
        "privacy": "private",
        "config": {"enable_chat": True, "exp": clock.now + 900, "max_participants": 4},
    }
    assert api("GET", "/rooms/r").json() == updated


def test_update_to_a_default_or_null_removes_the_property_from_config(api: Client) -> None:
    create(api, "r", enable_chat=True, lang="fr", enable_knocking=True)
    body = {"properties": {"enable_chat": False, "lang": None, "enable_knocking": False}}
    assert api("POST", "/rooms/r", json=body).json()["config"] == {"enable_knocking": False}


def test_update_without_body_changes_nothing(api: Client) -> None:
    room = create(api, "r", enable_chat=True)
    assert api("POST", "/rooms/r").json() == room


@pytest.mark.parametrize(
    ("body", "info"),
    [
        ({"name": "other"}, "unknown parameter 'name'"),
        ({"properties": {"enable_chat": "yes"}}, "enable_chat was 'yes' but should be a boolean"),
        ({"properties": {"nope": 1}}, "unknown parameter 'nope'"),
        ({"privacy": "secret"}, "privacy was 'secret'"),
        ({"properties": {"exp": 1}}, "which is in the past"),
    ],
)
def test_update_is_validated_like_create(api: Client, body: dict, info: str) -> None:
    room = create(api, "r", enable_chat=True)
    assert_error(api("POST", "/rooms/r", json=body), 400, "invalid-request-error", info)
    assert api("GET", "/rooms/r").json() == room


def test_update_of_a_missing_or_expired_room_is_404(api: Client, clock: FakeClock) -> None:
    body = {"properties": {"enable_chat": True}}
    assert_error(api("POST", "/rooms/ghost", json=body), 404, "not-found", "room ghost not found")
    create(api, "brief", exp=clock.now + 10)
    clock.advance(10)
    assert api("POST", "/rooms/brief", json=body).json()["deleted"] is True


# --- list ------------------------------------------------------------------------------------


@pytest.fixture
def five(api: Client, clock: FakeClock) -> list[dict]:
    """Rooms r0..r4 created one second apart, newest (r4) first."""
    rooms = []
    for index in range(5):
        rooms.append(create(api, f"r{index}"))
        clock.advance(1)
    return rooms[::-1]


def names(response) -> list[str]:
    assert response.status_code == 200
    return [room["name"] for room in response.json()["data"]]


def test_list_is_newest_first_and_counts_every_live_room(api: Client, five: list[dict]) -> None:
    listed = api("GET", "/rooms?limit=2").json()
    assert listed == {"total_count": 5, "data": five[:2]}


def test_ending_before_pages_to_older_rooms(api: Client, five: list[dict]) -> None:
    assert names(api("GET", f"/rooms?limit=2&ending_before={five[1]['id']}")) == ["r2", "r1"]
    assert names(api("GET", f"/rooms?ending_before={five[3]['id']}")) == ["r0"]


def test_starting_after_pages_to_newer_rooms(api: Client, five: list[dict]) -> None:
    assert names(api("GET", f"/rooms?limit=2&starting_after={five[4]['id']}")) == ["r2", "r1"]
    assert names(api("GET", f"/rooms?starting_after={five[1]['id']}")) == ["r4"]


def test_both_cursors_select_the_rooms_between(api: Client, five: list[dict]) -> None:
    query = f"starting_after={five[4]['id']}&ending_before={five[0]['id']}"
    assert names(api("GET", f"/rooms?{query}")) == ["r3", "r2", "r1"]


def test_unknown_cursor_gives_an_empty_page(api: Client, five: list[dict]) -> None:
    assert api("GET", "/rooms?ending_before=nope").json() == {"total_count": 5, "data": []}


def test_limit_is_capped_at_100(api: Client, clock: FakeClock) -> None:
    for index in range(102):
        create(api, f"room{index}")
        if index % 18 == 17:
            clock.advance(1)  # stay under 20 requests per second
    listed = api("GET", "/rooms?limit=500").json()
    assert (listed["total_count"], len(listed["data"])) == (102, 100)
    assert len(api("GET", "/rooms").json()["data"]) == 100


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "1.5"])
def test_limit_must_be_a_positive_integer(api: Client, limit: str) -> None:
    assert_error(api("GET", f"/rooms?limit={limit}"), 400, "invalid-request-error", "limit")


def test_a_reused_name_lists_as_the_newest_room(api: Client, clock: FakeClock) -> None:
    create(api, "again", exp=clock.now + 5)
    create(api, "other")
    clock.advance(5)
    create(api, "again")
    assert names(api("GET", "/rooms")) == ["again", "other"]
