"""Create again after an answer that never came or a 504: the page sends the same
Idempotency-Key, so the visitor gets the room the first click made, and Daily holds one room."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Request, Route, expect

from localdev import functions
from localdev.local_stack import LocalStack
from localdev.server import DevServer
from tests.e2e.conftest import JOINED, BrowserLog

pytestmark = pytest.mark.e2e

CREATE = "Create room and start"


def is_create(request: Request) -> bool:
    return request.url.endswith("/api/rooms") and request.method == "POST"


def click_create(page: Page):
    """Click Create; the API's answer as the page got it."""
    with page.expect_response(lambda response: is_create(response.request)) as answer:
        page.get_by_role("button", name=CREATE).click()
    return answer.value


def test_a_lost_answer_then_create_again_opens_the_room_the_first_click_made(
    page: Page, fresh_stack: LocalStack, browser_log: BrowserLog
) -> None:
    """The server made the room, but its answer never reached the page (a dropped connection)."""
    browser_log.expect("net::ERR_FAILED")
    lost: list[dict] = []
    keys: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().json())  # the server answered 201; the page never hears it
        route.abort("failed")

    page.route("**/api/rooms", lose_the_first_answer)
    page.goto("/")
    page.get_by_role("button", name=CREATE).click()
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the server")
    room = click_create(page).json()
    page.wait_for_function(JOINED)

    assert keys[0] == keys[1]
    assert room["name"] == lost[0]["name"]
    assert list(fresh_stack.daily.rooms) == [room["name"]]
    assert page.evaluate("() => sessionStorage.getItem('createAttempt')") is None  # settled


def test_a_504_then_create_again_opens_the_room_daily_made_meanwhile(
    page: Page, dev_server: DevServer, fresh_stack: LocalStack, browser_log: BrowserLog
) -> None:
    """Daily created the room but answered too late for every attempt of the first create."""
    browser_log.expect("status of 504")
    dev_server.handlers["/api/rooms"] = functions.create_room(connect_timeout=1.0, read_timeout=0.5)
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", delay=1.0, times=3)
    page.goto("/")

    first = click_create(page)
    assert (first.status, first.json()["error"]) == (504, "upstream_timeout")
    expect(page.get_by_role("alert")).to_be_focused()
    assert fresh_stack.daily.wait_idle()
    [made] = fresh_stack.daily.rooms  # Daily made it after all
    second = click_create(page)
    page.wait_for_function(JOINED)

    assert second.status == 201
    assert second.json()["name"] == made
    assert first.request.headers["idempotency-key"] == second.request.headers["idempotency-key"]
    assert list(fresh_stack.daily.rooms) == [made]


def test_a_4xx_settles_the_attempt_and_the_next_create_is_a_new_one(
    page: Page, browser_log: BrowserLog
) -> None:
    browser_log.expect("status of 429")
    keys: list[str] = []

    def refuse_the_first(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fulfill(status=429, json={"error": "rate_limited", "message": "Later."})
        else:
            route.continue_()

    page.route("**/api/rooms", refuse_the_first)
    page.goto("/")
    assert click_create(page).status == 429
    assert click_create(page).status == 201

    assert keys[0] != keys[1]


def test_another_lifetime_is_another_attempt(page: Page, browser_log: BrowserLog) -> None:
    """The key is bound to the body: a retry with another lifetime needs a key of its own."""
    browser_log.expect("status of 502")
    keys: list[str] = []

    def fail(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        route.fulfill(status=502, json={"error": "upstream_error", "message": "Try again."})

    page.route("**/api/rooms", fail)
    page.goto("/")
    click_create(page)
    click_create(page)
    page.get_by_role("radio", name="15 min", exact=True).check()
    click_create(page)

    assert keys[0] == keys[1] != keys[2]


def test_a_click_before_the_lifetimes_appear_and_one_after_are_one_attempt(
    page: Page, browser_log: BrowserLog
) -> None:
    """The first click may come before GET /api/health has answered (no lifetime choices yet);
    with the default lifetime still chosen, the retry is the same request and keeps its key."""
    browser_log.expect("status of 502")
    keys: list[str] = []
    bodies: list[str | None] = []
    held: list[Route] = []

    def fail(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        bodies.append(route.request.post_data)
        route.fulfill(status=502, json={"error": "upstream_error", "message": "Try again."})

    page.route("**/api/health", lambda route: held.append(route))
    page.route("**/api/rooms", fail)
    page.goto("/")
    click_create(page)
    held[0].continue_()
    expect(page.get_by_role("radio", name="5 min", exact=True)).to_be_checked()
    click_create(page)

    assert bodies == ["{}", "{}"]
    assert keys[0] == keys[1]
