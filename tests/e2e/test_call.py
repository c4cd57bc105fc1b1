"""The call view: the offline call opens and closes, Leave always works, countdown and copy."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from localdev.local_stack import LocalStack
from tests.e2e.conftest import JOINED, BrowserLog, create_and_join, seconds

pytestmark = pytest.mark.e2e

UNREACHABLE_ROOM = "https://team.daily.co/standup"


def frame_src(page: Page) -> str:
    return page.locator("#frame iframe").get_attribute("src") or ""


def pause_the_clock(page: Page) -> None:
    """Stop the page's (installed) clock, so only run_for moves it: timeouts then fire exactly."""
    page.clock.pause_at(page.evaluate("() => Date.now() / 1000") + 1)


def expect_home_on_a_stopped_clock(page: Page) -> None:
    """Home, the call gone, while the page's clock stands still: no page timer was waited for."""
    expect(page.locator("#home")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    assert page.evaluate("() => window.Daily.getCallInstance() ?? null") is None


def test_offline_create_opens_the_stand_in_through_daily_js_proxy_url(
    page: Page, base_url: str, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    page.goto("/")
    room = create_and_join(page)
    assert list(fresh_stack.daily.rooms) == [room["name"]]
    assert room["url"] == f"https://emulator.daily.co/{room['name']}"
    # daily-js itself built the frame's address: its proxyUrl plus the room URL without https://.
    src = urlsplit(frame_src(page))
    assert f"{src.scheme}://{src.netloc}{src.path}" == (
        f"{base_url}/__daily__/emulator.daily.co/{room['name']}"
    )
    query = parse_qs(src.query)
    assert query["proxy"] == [f"{base_url}/__daily__"]
    # The owner token reaches the call but never the links people share.
    assert query["t"] == [room["ownerToken"]]
    expect(page.get_by_label("Direct Daily link")).to_have_value(room["url"])
    expect(page.get_by_label(re.compile("^Invite link"))).to_have_value(
        f"{base_url}/?room={room['url']}"
    )
    standin = page.frame_locator("#frame iframe")
    expect(standin.get_by_text("Offline demo room")).to_be_visible()
    expect(standin.locator("h1")).to_have_text(f"Room {room['name']}")
    # Without camera permission (the tests' browser grants only the clipboard): a clear note.
    expect(standin.locator("#camera-note")).to_have_text("The camera is blocked for this page.")
    expect(standin.locator("video")).to_be_hidden()
    expect(page.locator("#frame-status")).to_be_hidden()
    expect(page.locator("#home")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Room {room['name']}")


def test_leave_goes_home_at_once_and_a_second_call_works(
    page: Page, fresh_stack: LocalStack, browser_log: BrowserLog
) -> None:
    assert fresh_stack.daily is not None
    page.clock.install()
    page.goto("/")
    first = create_and_join(page)
    pause_the_clock(page)
    page.get_by_role("button", name="Leave call").click()
    expect_home_on_a_stopped_clock(page)
    page.clock.resume()
    expect(page.locator("#alert")).to_be_empty()

    second = create_and_join(page)
    assert second["url"] != first["url"]
    assert second["name"] in frame_src(page)
    assert len(fresh_stack.daily.rooms) == 2
    # Prebuilt's own Leave button (the stand-in has one too) ends the call the same way.
    pause_the_clock(page)
    page.frame_locator("#frame iframe").get_by_role("button", name="Leave").click()
    expect_home_on_a_stopped_clock(page)
    assert browser_log.mentions("Duplicate") == []


def test_a_room_that_cannot_load_shows_connecting_and_leave_goes_home_at_once(
    page: Page, browser_log: BrowserLog
) -> None:
    browser_log.expect("https://team.daily.co/standup")  # offline: Daily cannot be reached
    page.clock.install()
    page.goto("/")
    page.get_by_label("Or enter room to join").fill(UNREACHABLE_ROOM)
    page.get_by_role("button", name="Join room").click()
    expect(page.locator("#frame-status")).to_have_text("Connecting to the room…")
    expect(page.locator("#frame iframe")).to_be_hidden()  # not Chromium's error page
    assert page.evaluate("() => window.Daily.getCallInstance().meetingState()") == "loading"
    # No page timer may run: a call that never joined is closed at once, not after a timeout.
    pause_the_clock(page)
    page.get_by_role("button", name="Leave call").click()
    expect_home_on_a_stopped_clock(page)
    expect(page.get_by_role("status").filter(has_text="before the call")).to_be_visible()
    # Nothing is left behind: the same room can be tried again at once.
    page.clock.resume()
    page.get_by_role("button", name="Join room").click()
    expect(page.locator("#frame-status")).to_have_text("Connecting to the room…")


def join_unreachable_room_on_a_paused_clock(page: Page, browser_log: BrowserLog) -> None:
    """Join a room Daily never answers for (offline), with the page's clock under the test."""
    browser_log.expect("https://team.daily")  # every base domain daily-js tries, offline
    page.clock.install()
    page.goto("/")
    pause_the_clock(page)
    page.get_by_label("Or enter room to join").fill(UNREACHABLE_ROOM)
    page.get_by_role("button", name="Join room").click()
    expect(page.locator("#frame-status")).to_have_text("Connecting to the room…")


def expect_load_error_after_15_s(page: Page) -> Locator:
    """Nothing before 15 s; then the error card in the frame's place, announced and focused."""
    page.clock.run_for(14_900)
    load_error = page.locator("#load-error")
    expect(load_error).to_be_hidden()
    expect(page.get_by_role("alert")).to_have_count(0)
    page.clock.run_for(200)
    expect(load_error).to_be_visible()
    expect(load_error).to_have_attribute("role", "alert")
    expect(load_error).to_be_focused()
    heading = load_error.get_by_role("heading", name="This room did not load", exact=True)
    expect(heading).to_be_visible()  # the "!" before it is hidden from screen readers
    expect(load_error).to_contain_text("Nothing came back from Daily in 15 seconds.")
    expect(load_error).to_contain_text("The room link may be wrong")
    expect(load_error).to_contain_text("Leave, check the room link and your connection, then")
    expect(page.locator("#frame-status")).to_be_hidden()
    expect(page.locator("#frame iframe")).to_be_hidden()
    return load_error


def test_a_room_that_cannot_load_is_an_error_after_15_s_and_ends_when_daily_js_gives_up(
    page: Page, browser_log: BrowserLog
) -> None:
    reports: list[str] = []
    page.route(
        "https://o77906.ingest.sentry.io/**",
        lambda route: (reports.append(route.request.url), route.fulfill(json={})),
    )
    join_unreachable_room_on_a_paused_clock(page, browser_log)
    load_error = expect_load_error_after_15_s(page)
    # The call view stays, so the fallback stays reachable: Leave is there, in two places.
    expect(page.locator("#call")).to_be_visible()
    expect(load_error.get_by_role("button", name="Leave", exact=True)).to_be_enabled()
    expect(page.get_by_role("button", name="Leave call")).to_be_enabled()
    # daily-js goes on with its other base domains, 25 s each, which the CSP lets it frame.
    for _ in range(3):
        page.clock.run_for(25_000)
    expect(page.locator("#home")).to_be_visible()
    alert = page.locator("#alert")
    expect(alert).to_contain_text("The call could not be loaded")
    expect(alert).to_be_focused()
    expect(page.locator("iframe")).to_have_count(0)
    expect(load_error).to_be_hidden()
    tried = {urlsplit(url).hostname for url in browser_log.blocked}
    assert tried == {"team.daily.co", "team.dailywebrtc.com", "team.dailywebrtc.net"}
    assert browser_log.violations == []
    assert len(reports) == 1  # daily-js's own report of the failure, let through by the CSP


def test_leave_from_the_load_error_goes_home_at_once_and_says_what_to_do(
    page: Page, browser_log: BrowserLog
) -> None:
    join_unreachable_room_on_a_paused_clock(page, browser_log)
    load_error = expect_load_error_after_15_s(page)
    load_error.get_by_role("button", name="Leave", exact=True).click()
    expect_home_on_a_stopped_clock(page)
    expect(page.locator("#notice")).to_have_text(
        "The room did not load, so you left it. Check the link and your connection, then try again."
    )
    expect(load_error).to_be_hidden()
    # The link is still in the field: trying again is one click.
    expect(page.get_by_label("Or enter room to join")).to_have_value(UNREACHABLE_ROOM)
    page.get_by_role("button", name="Join room").click()
    expect(page.locator("#frame-status")).to_have_text("Connecting to the room…")
    expect(load_error).to_be_hidden()


def test_a_fallback_domain_that_loads_after_the_error_clears_it_and_the_call_goes_on(
    page: Page, base_url: str, browser_log: BrowserLog
) -> None:
    """A network that blocks daily.co but not dailywebrtc.com: daily-js's second try works."""
    room = page.request.post(base_url + "/api/rooms", data={}).json()

    def dailywebrtc(route: Route) -> None:
        # The stand-in, as if Daily's page for this room had come from the fallback domain,
        # which lets any page frame it (the stand-in's own policy allows only its origin).
        path = urlsplit(route.request.url).path
        if not path.startswith("/__daily__/"):
            path = f"/__daily__/emulator.daily.co{path}"
        answer = page.request.get(base_url + path)
        headers = answer.headers
        csp = headers["content-security-policy"]
        headers["content-security-policy"] = csp.replace("frame-ancestors 'self'", "")
        route.fulfill(response=answer, headers=headers)

    page.route("https://team.dailywebrtc.com/**", dailywebrtc)
    browser_log.expect("https://team.daily.co/")
    page.clock.install()
    page.goto("/")
    pause_the_clock(page)
    page.get_by_label("Or enter room to join").fill(f"https://team.daily.co/{room['name']}")
    page.get_by_role("button", name="Join room").click()
    load_error = expect_load_error_after_15_s(page)
    page.clock.run_for(10_000)  # daily-js's 25 s for daily.co are up: it tries dailywebrtc.com
    page.wait_for_function(JOINED)
    assert urlsplit(frame_src(page)).hostname == "team.dailywebrtc.com"
    expect(load_error).to_be_hidden()
    expect(page.locator("#frame iframe")).to_be_visible()
    expect(page.frame_locator("#frame iframe").locator("h1")).to_have_text(f"Room {room['name']}")
    expect(page.locator("#call-title")).to_be_focused()
    page.get_by_role("button", name="Leave call").click()
    expect(page.locator("#home")).to_be_visible()


def stuck_standin(route: Route) -> None:
    """The stand-in's script, minus its answer to leave-meeting: a Prebuilt that hangs."""
    script = route.fetch().text()
    answer = 'else if (data.action === "leave-meeting") leave();'
    assert answer in script
    route.fulfill(body=script.replace(answer, ""), content_type="text/javascript")


def test_leave_that_daily_never_confirms_closes_the_frame_after_2_s(page: Page) -> None:
    page.route("**/__daily__/assets/standin.js", stuck_standin)
    page.clock.install()
    page.goto("/")
    create_and_join(page)
    pause_the_clock(page)
    page.get_by_role("button", name="Leave call").click()
    expect(page.get_by_role("button", name="Leave call")).to_be_disabled()
    page.clock.run_for(1900)
    expect(page.locator("#call")).to_be_visible()
    page.clock.run_for(200)
    expect(page.locator("#home")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="did not respond")).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    assert page.evaluate("() => window.Daily.getCallInstance() ?? null") is None
    # A new call works after the forced close.
    page.clock.resume()
    create_and_join(page)


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


def test_the_room_expiring_ends_the_call_and_says_why(page: Page) -> None:
    page.clock.install()
    page.goto("/")
    room = create_and_join(page)
    now = page.evaluate("() => Date.now() / 1000")
    page.clock.fast_forward(int((room["exp"] - now - 2) * 1000))
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^0:0[1-3]$"))
    # At exp the stand-in ejects everyone, as Daily does with eject_at_room_exp.
    page.clock.fast_forward(3000)
    expect(page.locator("#home")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="The room expired")).to_be_visible()
    expect(page.locator("#alert")).to_be_empty()
    expect(page.get_by_role("button", name=re.compile("^Rejoin"))).to_be_hidden()


def test_copy_buttons_copy_the_invite_link_and_the_daily_link(page: Page, base_url: str) -> None:
    page.goto("/")
    room = create_and_join(page)
    page.get_by_role("button", name="Copy invite link").click()
    expect(page.locator("#copy-invite")).to_have_text("Copied!")
    expect(page.get_by_role("status").filter(has_text="Invite link copied")).to_be_attached()
    invite = f"{base_url}/?room={room['url']}"
    assert page.evaluate("() => navigator.clipboard.readText()") == invite
    page.get_by_role("button", name="Copy Daily link").click()
    expect(page.locator("#copy-direct")).to_have_text("Copied!")
    expect(page.locator("#copy-invite")).to_have_text("Copy")
    assert page.evaluate("() => navigator.clipboard.readText()") == room["url"]
    expect(page.locator("#copy-direct")).to_have_text("Copy", timeout=5000)


def test_join_an_emulator_room_by_its_url_opens_it_with_its_countdown(page: Page) -> None:
    page.goto("/")
    created = page.request.post("/api/rooms", data={}).json()
    page.get_by_label("Or enter room to join").fill(created["url"] + "/")
    page.get_by_role("button", name="Join room").click()
    page.wait_for_function(JOINED)
    assert "t" not in parse_qs(urlsplit(frame_src(page)).query)
    expect(page.get_by_label("Direct Daily link")).to_have_value(created["url"])
    # The room's exp comes from daily-js's room(), after the join.
    expect(page.locator("#expiry")).to_be_visible()
    remaining = created["exp"] - page.evaluate("() => Date.now() / 1000")
    assert abs(seconds(page.get_by_role("timer").inner_text()) - remaining) <= 2


def test_enter_in_the_field_joins_like_the_button(page: Page) -> None:
    page.goto("/")
    created = page.request.post("/api/rooms", data={}).json()
    page.get_by_label("Or enter room to join").fill(created["url"])
    page.get_by_label("Or enter room to join").press("Enter")
    page.wait_for_function(JOINED)
    assert created["name"] in frame_src(page)
