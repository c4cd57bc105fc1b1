"""The call view: the frame joins the created room, countdown, copy, leave and create again."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from localdev.local_stack import LocalStack
from tests.e2e.conftest import BrowserLog, axe_violations, screenshot

pytestmark = pytest.mark.e2e

JOINED = "() => window.Daily.getCallInstance()?.meetingState() === 'joined-meeting'"


def create_and_join(page: Page) -> dict[str, Any]:
    """Click Create, wait until daily-js has joined the room; the API's answer."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/rooms") and r.request.method == "POST"
    ) as response:
        page.get_by_role("button", name="Create room and start").click()
    assert response.value.status == 201
    page.wait_for_function(JOINED)
    return response.value.json()


def seconds(countdown: str) -> int:
    minutes, secs = countdown.split(":")
    return int(minutes) * 60 + int(secs)


def test_create_mounts_a_frame_for_the_room_the_api_created(
    page: Page, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    page.goto("/")
    room = create_and_join(page)
    assert list(fresh_stack.daily.rooms) == [room["name"]]
    assert fresh_stack.daily.rooms[room["name"]]["url"] == room["url"]
    src = page.locator("#frame iframe").get_attribute("src") or ""
    assert src.startswith(room["url"] + "?")
    # The owner token reaches daily-js (which passes it to Prebuilt) but never the shared link.
    assert parse_qs(urlsplit(src).query)["t"] == [room["ownerToken"]]
    share = page.get_by_label("Share this link:")
    expect(share).to_have_value(room["url"])
    expect(page.locator("#home")).to_be_hidden()
    expect(page.get_by_role("button", name="Leave call")).to_be_visible()


def test_countdown_shows_the_time_left_and_decreases(page: Page) -> None:
    page.goto("/")
    room = create_and_join(page)
    countdown = page.get_by_role("timer")
    expect(countdown).to_have_text(re.compile(r"^\d+:[0-5]\d$"))
    first = countdown.inner_text()
    remaining = room["exp"] - page.evaluate("() => Date.now() / 1000")
    assert abs(seconds(first) - remaining) <= 2
    page.wait_for_function(
        "(first) => document.getElementById('countdown').textContent !== first", arg=first
    )
    assert seconds(countdown.inner_text()) < seconds(first)


def test_countdown_reaches_a_clear_expired_state(page: Page) -> None:
    page.clock.install()
    page.goto("/")
    room = create_and_join(page)
    page.clock.fast_forward((room["exp"] - int(page.evaluate("Date.now() / 1000")) + 2) * 1000)
    expect(page.get_by_role("timer")).to_have_text("0:00")
    expect(page.locator("#expiry-label")).to_have_text("Room expired")
    expect(page.locator("#expired-note")).to_contain_text("expired")
    expect(page.get_by_role("button", name="Copy room URL")).to_be_disabled()
    screenshot(page, "call-expired")
    # Daily then ejects everyone (eject_at_room_exp); the home view says why the call ended.
    page.evaluate("() => window.Daily.getCallInstance().leave()")
    expect(page.locator("#home")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("The room expired")


def test_copy_room_url_copies_and_says_so(page: Page) -> None:
    page.goto("/")
    room = create_and_join(page)
    page.get_by_role("button", name="Copy room URL").click()
    expect(page.locator("#copy")).to_have_text("Copied!")
    expect(page.get_by_role("status").filter(has_text="copied")).to_be_attached()
    assert page.evaluate("() => navigator.clipboard.readText()") == room["url"]
    expect(page.locator("#copy")).to_have_text("Copy room URL", timeout=5000)


def test_left_meeting_returns_home_and_a_second_create_works(
    page: Page, fresh_stack: LocalStack, browser_log: BrowserLog
) -> None:
    assert fresh_stack.daily is not None
    page.goto("/")
    first = create_and_join(page)
    # The page's own Leave control calls callFrame.leave(); daily-js then emits left-meeting.
    page.get_by_role("button", name="Leave call").click()
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    assert page.evaluate("() => window.Daily.getCallInstance() ?? null") is None

    second = create_and_join(page)
    assert second["url"] != first["url"]
    src = page.locator("#frame iframe").get_attribute("src") or ""
    assert src.startswith(second["url"] + "?")
    assert len(fresh_stack.daily.rooms) == 2

    # Leaving from inside the call (as Prebuilt's own button does) ends it the same way.
    page.evaluate("() => window.Daily.getCallInstance().leave()")
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    expect(page.get_by_role("button", name="Create room and start")).to_be_focused()
    expect(page.locator("#alert")).to_be_empty()
    assert browser_log.mentions("Duplicate") == []


def test_join_an_existing_room_url_opens_it_without_a_countdown(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Or enter room to join").fill("team.daily.co/standup/")
    page.get_by_role("button", name="Join room").click()
    page.wait_for_function(JOINED)
    src = page.locator("#frame iframe").get_attribute("src") or ""
    assert src.startswith("https://team.daily.co/standup?")
    assert "t" not in parse_qs(urlsplit(src).query)
    expect(page.get_by_label("Share this link:")).to_have_value("https://team.daily.co/standup")
    expect(page.locator("#expiry")).to_be_hidden()


def test_enter_in_the_field_joins_like_the_button(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Or enter room to join").fill("https://team.daily.co/retro")
    page.get_by_label("Or enter room to join").press("Enter")
    page.wait_for_function(JOINED)
    expect(page.locator("#frame iframe")).to_have_attribute(
        "src", re.compile(r"^https://team\.daily\.co/retro\?")
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_call_view_has_no_accessibility_violations(page: Page, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto("/")
    create_and_join(page)
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^\d+:\d\d$"))
    assert axe_violations(page) == []
    screenshot(page, f"call-{scheme}")


def test_call_view_stacks_on_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    create_and_join(page)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    frame = page.locator("#frame").bounding_box()
    side = page.locator(".side").bounding_box()
    assert frame is not None
    assert side is not None
    assert side["y"] >= frame["y"] + frame["height"]
    screenshot(page, "call-phone")
