"""A call's life beyond the call bar: the room's clock for guests too, a warning a minute before
the end and the end itself; a reload offers to rejoin, Back goes home; offline, two windows of one
browser in one room see each other's names.

At a desktop (1440x900) and a phone (390x844) size, in both themes, with axe on each view and a
screenshot of it in artifacts/screenshots/ (session-*.png).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import (
    JOINED,
    BrowserLog,
    axe_violations,
    create_and_join,
    screenshot,
    seconds,
)
from tests.e2e.test_invites_and_limits import STATES, at
from tests.e2e.test_layout import on_screen

pytestmark = pytest.mark.e2e

PRIMARY = re.compile(r"\bprimary\b")
EXPIRED = (
    "The room expired, so the call ended. Create a new room, or ask for a new invite, to keep "
    "talking."
)


def checked(page: Page, name: str) -> None:
    """No accessibility violation on the view, and its screenshot."""
    assert axe_violations(page) == []
    screenshot(page, name)


def stored_call(page: Page) -> Any:
    """The call this tab keeps for a reload, or None."""
    return json.loads(page.evaluate("() => sessionStorage.getItem('currentCall')") or "null")


def others(page: Page) -> Locator:
    """The names the stand-in lists as also in the room."""
    return page.frame_locator("#frame iframe").locator("#others li")


def second_window(page: Page, log: BrowserLog, size: str, scheme: str) -> Page:
    """Another window of the same browser (context), its console recorded like the first's."""
    window = page.context.new_page()
    window.on("console", log.on_console)
    window.on("pageerror", lambda error: log.errors.append(str(error)))
    at(window, size, scheme)
    return window


def join_by_invite(page: Page, room: dict[str, Any], name: str = "") -> None:
    page.goto(f"/?room={room['url']}")
    expect(page.get_by_label("Room to join", exact=True)).to_have_value(room["url"])
    if name:
        page.get_by_label("Your name (optional)").fill(name)
    page.get_by_role("button", name="Join room").click()
    page.wait_for_function(JOINED)


def frame_token(page: Page) -> list[str]:
    src = page.locator("#frame iframe").get_attribute("src") or ""
    return parse_qs(urlsplit(src).query).get("t", [])


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_a_guest_sees_the_clock_then_a_warning_a_minute_before_the_end_then_the_end(
    page: Page, base_url: str, size: str, scheme: str
) -> None:
    at(page, size, scheme)
    room = page.request.post(base_url + "/api/rooms", data={}).json()
    page.clock.install()
    join_by_invite(page, room)
    # A guest's page never saw the API's answer: the room's exp comes from daily-js's room().
    timer = page.get_by_role("timer")
    expect(page.locator("#expiry")).to_contain_text("Expires in")
    expect(timer).to_have_text(re.compile(r"^\d+:[0-5]\d$"))
    remaining = room["exp"] - page.evaluate("() => Date.now() / 1000")
    assert abs(seconds(timer.inner_text()) - remaining) <= 2
    note = page.locator("#expiry-note")
    expect(note).to_have_attribute("role", "status")
    expect(note).to_have_attribute("aria-live", "polite")
    expect(note).to_be_empty()  # the live region is there, silent, before it has news
    checked(page, f"session-guest-clock-{size}-{scheme}")

    # Only the test moves the clock now: 61 s before the end, no warning; at 60 s, the warning.
    page.clock.pause_at(page.evaluate("() => Date.now() / 1000") + 1)
    now = page.evaluate("() => Date.now() / 1000")
    page.clock.fast_forward(int((room["exp"] - 61 - now) * 1000))
    expect(timer).to_have_text("1:01")
    expect(note).to_be_empty()
    page.clock.run_for(1200)  # the page ticks just after each whole second
    expect(timer).to_have_text("1:00")
    warning = page.get_by_role("status").filter(has_text="This room closes in 1 minute.")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("The call then ends for everyone")
    expect(page.locator("#expiry")).to_have_class(re.compile(r"\bis-ending\b"))
    page.clock.resume()  # axe needs running timers
    checked(page, f"session-guest-warning-{size}-{scheme}")

    # At exp the stand-in ejects everyone, as Daily does: home, saying why, nothing to rejoin.
    page.clock.fast_forward(65_000)
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("#notice")).to_have_text(EXPIRED)
    expect(page.locator("#alert")).to_be_empty()
    expect(page.locator("iframe")).to_have_count(0)
    expect(page.locator("#rejoin-section")).to_be_hidden()
    assert stored_call(page) is None
    checked(page, f"session-guest-expired-{size}-{scheme}")


def expect_rejoin_offer(page: Page, room: dict[str, Any]) -> None:
    """After a reload during a call: a word on it, and Rejoin first, focused, on screen with it."""
    notice = page.locator("#notice")
    expect(notice).to_have_text(
        f"You were in a call in room {room['name']} on emulator.daily.co. "
        "Press Rejoin to go back in while the room is open."
    )
    rejoin = page.get_by_role("button", name=re.compile(rf"^Rejoin {room['name']}"))
    expect(rejoin).to_have_text(re.compile(r"\(\d+:[0-5]\d left\)$"))
    expect(rejoin).to_be_focused()
    expect(rejoin).to_have_class(PRIMARY)
    expect(page.locator("#create")).not_to_have_class(PRIMARY)
    expect(page.locator("#join")).not_to_have_class(PRIMARY)
    assert page.evaluate("() => window.scrollY") == 0
    assert on_screen(page, "#notice")
    assert on_screen(page, "#rejoin")
    expect(page.locator("iframe")).to_have_count(0)  # nothing joins before the visitor says so


def in_one_room_as_ada_and_grace(page: Page, log: BrowserLog, size: str, scheme: str) -> tuple:
    """Ada creates a room; Grace, in another window of the same browser, joins it by its invite."""
    at(page, size, scheme)
    page.goto("/")
    page.get_by_label("Your name (optional)").fill("Ada")
    room = create_and_join(page)
    guest = second_window(page, log, size, scheme)
    join_by_invite(guest, room, name="Grace")
    return room, guest


@pytest.mark.parametrize(("size", "scheme"), STATES)
def test_two_windows_see_each_other_and_a_reload_offers_each_to_rejoin(
    page: Page, browser_log: BrowserLog, size: str, scheme: str
) -> None:
    room, guest = in_one_room_as_ada_and_grace(page, browser_log, size, scheme)
    # Offline, each window's stand-in names the other.
    expect(others(page)).to_have_text(["Grace"])
    expect(others(guest)).to_have_text(["Ada"])
    checked(page, f"session-two-windows-{size}-{scheme}")

    # The guest reloads: gone from Ada's window, offered the same room in one click.
    guest.reload()
    expect(others(page)).to_have_count(0)
    expect(page.frame_locator("#frame iframe").get_by_text("Nobody else yet.")).to_be_visible()
    expect_rejoin_offer(guest, room)
    # The invite's field is no longer first, so it is the "or" again.
    expect(guest.get_by_label("Or enter room to join")).to_have_value(room["url"])
    checked(guest, f"session-rejoin-guest-{size}-{scheme}")

    page.reload()
    expect_rejoin_offer(page, room)
    checked(page, f"session-rejoin-creator-{size}-{scheme}")


def test_rejoin_after_a_reload_is_the_same_room_and_back_leaves_the_call_cleanly(
    page: Page, browser_log: BrowserLog
) -> None:
    room, guest = in_one_room_as_ada_and_grace(page, browser_log, "desktop", "light")
    # daily-js hears of the other window as of a participant from Daily.
    remote = "() => Object.values(Daily.getCallInstance().participants()).filter((p) => !p.local)"
    assert [p["user_name"] for p in page.evaluate(remote)] == ["Grace"]
    # Each tab keeps its call for a reload: the room and its end, never a token.
    assert stored_call(page) == {"url": room["url"], "exp": room["exp"]}
    assert stored_call(guest) == {"url": room["url"], "exp": room["exp"]}

    guest.reload()
    guest.get_by_role("button", name=re.compile("^Rejoin")).click()
    guest.wait_for_function(JOINED)
    assert frame_token(guest) == []
    expect(guest.get_by_label("Direct Daily link")).to_have_value(room["url"])
    expect(guest.get_by_role("timer")).to_be_visible()
    expect(others(page)).to_have_text(["Grace"])

    # The creator rejoins as the room's owner: the token comes from what this tab created.
    page.reload()
    expect_rejoin_offer(page, room)
    page.keyboard.press("Enter")
    page.wait_for_function(JOINED)
    assert frame_token(page) == [room["ownerToken"]]
    expect(others(page)).to_have_text(["Grace"])

    # Back from the call view: the home view, the call left cleanly.
    page.go_back()
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    assert page.evaluate("() => window.Daily.getCallInstance() ?? null") is None
    assert stored_call(page) is None
    expect(others(guest)).to_have_count(0)
    # Its creator may still rejoin the room, as after Leave: no longer the first thing.
    rejoin = page.get_by_role("button", name=re.compile(rf"^Rejoin {room['name']}"))
    expect(rejoin).to_be_focused()
    expect(rejoin).not_to_have_class(PRIMARY)
    expect(page.locator("#create")).to_have_class(PRIMARY)
    expect(page.locator("#notice")).to_be_empty()
    guest.go_back()
    expect(guest.locator("#home")).to_be_visible()
    assert stored_call(guest) is None
    expect(guest.locator("#rejoin-section")).to_be_hidden()


def test_the_offer_to_rejoin_ends_with_the_room(page: Page, base_url: str) -> None:
    room = page.request.post(base_url + "/api/rooms", data={}).json()
    join_by_invite(page, room)
    page.clock.install()
    page.reload()
    rejoin = page.get_by_role("button", name=re.compile("^Rejoin"))
    expect(rejoin).to_be_focused()
    now = page.evaluate("() => Date.now() / 1000")
    page.clock.fast_forward(int((room["exp"] - now + 2) * 1000))
    expect(rejoin).to_be_hidden()
    expect(page.locator("#notice")).to_have_text(
        "The room you were in has expired. Create a new room, or ask for a new invite, to keep "
        "talking."
    )
    assert stored_call(page) is None
    # The invite is the page's own again: Join first, focused.
    join = page.get_by_role("button", name="Join room")
    expect(join).to_be_focused()
    expect(join).to_have_class(PRIMARY)
    expect(page.get_by_label("Room to join", exact=True)).to_have_value(room["url"])


def test_a_call_that_ends_takes_its_history_entry_back_and_the_skip_link_adds_none(
    page: Page,
) -> None:
    page.goto("/")
    length = page.evaluate("() => history.length")
    create_and_join(page)
    assert page.evaluate("() => history.length") == length + 1
    page.get_by_role("button", name="Leave call").click()
    page.wait_for_function("() => history.state === null")
    # A second call right away pushes its own entry, which Back leaves.
    create_and_join(page)
    # The skip link moves the focus without a history step, so the call goes on.
    page.get_by_role("link", name="Skip to content").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    assert page.evaluate("() => [history.length, location.hash]") == [length + 1, ""]
    expect(page.locator("#call")).to_be_visible()
    page.go_back()
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    assert page.evaluate("() => history.state") is None
