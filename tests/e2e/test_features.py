"""Lifetime choice, rejoin, display name, invite link, the stand-in's camera and missing rooms."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from localdev import functions
from localdev.local_stack import LocalStack
from localdev.server import DevServer
from tests.e2e.conftest import JOINED, BrowserLog, create_and_join, leave_call, seconds

pytestmark = pytest.mark.e2e

CREATE = "Create room and start"


def lifetimes(page: Page) -> list[str]:
    expect(page.locator("#lifetime")).to_be_visible()
    return page.locator("#lifetime label").all_inner_texts()


def test_lifetime_choice_sends_ttl_seconds_and_the_countdown_matches(
    page: Page, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    page.goto("/")
    assert lifetimes(page) == ["5 min", "15 min", "30 min", "60 min"]
    # The server's default is chosen at first.
    expect(page.get_by_role("radio", name="5 min", exact=True)).to_be_checked()
    page.get_by_role("radio", name="15 min", exact=True).check()
    with page.expect_request("**/api/rooms") as sent:
        room = create_and_join(page)
    assert json.loads(sent.value.post_data or "") == {"ttl_seconds": 900}
    now = page.evaluate("() => Date.now() / 1000")
    assert abs(room["exp"] - now - 900) <= 5
    assert fresh_stack.daily.rooms[room["name"]]["config"]["exp"] == room["exp"]
    shown = seconds(page.get_by_role("timer").inner_text())
    assert abs(shown - (room["exp"] - now)) <= 2
    assert 890 <= shown <= 900


def test_lifetime_choices_follow_the_functions_settings(page: Page, dev_server: DevServer) -> None:
    narrower = functions.health(min_room_ttl=600, max_room_ttl=1800, room_ttl=1200)
    dev_server.handlers["/api/health"] = narrower
    page.goto("/")
    # 5 and 60 minutes are out of range; the server's default (20 min) is offered and chosen.
    assert lifetimes(page) == ["15 min", "20 min", "30 min"]
    expect(page.get_by_role("radio", name="20 min", exact=True)).to_be_checked()


def test_rejoin_the_room_you_left_while_it_is_valid(page: Page) -> None:
    page.clock.install()
    page.goto("/")
    rejoin = page.get_by_role("button", name=re.compile("^Rejoin"))
    expect(rejoin).to_be_hidden()
    room = create_and_join(page)
    page.get_by_role("button", name="Leave call").click()
    expect(page.locator("#home")).to_be_visible()
    expect(rejoin).to_have_text(re.compile(rf"^Rejoin {room['name']} \(\d+:[0-5]\d left\)$"))
    expect(rejoin).to_be_focused()
    left = seconds(re.findall(r"\((\d+:\d\d) left", rejoin.inner_text())[0])
    assert abs(left - (room["exp"] - page.evaluate("() => Date.now() / 1000"))) <= 2
    # The owner token stays in this tab's sessionStorage, never in the address bar.
    assert room["ownerToken"] not in page.url
    stored = json.loads(page.evaluate("() => sessionStorage.getItem('lastRoom')"))
    assert stored == {"url": room["url"], "token": room["ownerToken"], "exp": room["exp"]}
    rejoin.click()
    page.wait_for_function(JOINED)
    src = page.locator("#frame iframe").get_attribute("src") or ""
    assert f"/emulator.daily.co/{room['name']}?" in src
    assert parse_qs(urlsplit(src).query)["t"] == [room["ownerToken"]]
    page.get_by_role("button", name="Leave call").click()
    expect(rejoin).to_be_visible()
    # Once the room has expired there is nothing to rejoin.
    now = page.evaluate("() => Date.now() / 1000")
    page.clock.fast_forward(int((room["exp"] - now + 2) * 1000))
    expect(rejoin).to_be_hidden()
    assert page.evaluate("() => sessionStorage.getItem('lastRoom')") is None


def test_display_name_reaches_the_call_and_is_remembered(page: Page) -> None:
    page.goto("/")
    name = page.get_by_label("Your name (optional)")
    name.fill("  Ada Lovelace ")
    create_and_join(page)
    standin = page.frame_locator("#frame iframe")
    expect(standin.get_by_text("You joined as Ada Lovelace.")).to_be_visible()
    participant = page.evaluate("() => window.Daily.getCallInstance().participants().local")
    assert participant["user_name"] == "Ada Lovelace"
    leave_call(page)
    page.reload()
    expect(name).to_have_value("Ada Lovelace")
    name.fill("")
    page.reload()
    expect(name).to_have_value("")


def test_invite_link_round_trip(page: Page, base_url: str) -> None:
    page.goto("/")
    room = create_and_join(page)
    invite = page.get_by_label(re.compile("^Invite link")).input_value()
    assert invite == f"{base_url}/?room={room['url']}"
    assert "t=" not in invite
    # Someone else opens the link: the room is filled in and Join is ready.
    guest = page.context.new_page()
    guest.goto(invite)
    expect(guest.get_by_label("Room to join", exact=True)).to_have_value(room["url"])
    join = guest.get_by_role("button", name="Join room")
    expect(join).to_be_enabled()
    expect(join).to_be_focused()
    # Whose room it is (the team's address) is said before anyone joins.
    notice = guest.get_by_role("status").filter(has_text=room["name"])
    expect(notice).to_have_text(
        f"You are invited to room {room['name']} on emulator.daily.co. Press Join room to enter."
    )
    guest.keyboard.press("Enter")
    guest.wait_for_function(JOINED)
    expect(guest.get_by_label("Direct Daily link")).to_have_value(room["url"])
    guest.close()


def test_an_invite_link_names_the_rooms_team_before_joining(page: Page) -> None:
    page.goto("/?room=HTTPS://Other-Team.Daily.co/standup")
    expect(page.get_by_label("Room to join", exact=True)).to_have_value(
        "https://other-team.daily.co/standup"
    )
    notice = page.locator("#notice")
    expect(notice).to_have_text(
        "You are invited to room standup on other-team.daily.co. Press Join room to enter."
    )
    expect(notice.locator("strong")).to_have_text(["standup", "other-team.daily.co"])
    expect(page.get_by_role("button", name="Join room")).to_be_focused()
    expect(page.locator("iframe")).to_have_count(0)  # nothing joins before the visitor says so


def test_an_invite_link_to_something_else_is_explained(page: Page) -> None:
    page.goto("/?room=https://evil.example/room")
    expect(page.get_by_role("button", name="Join room")).to_be_disabled()
    expect(page.locator("#room-url-error")).to_contain_text("not a Daily room link")


def test_the_stand_in_shows_the_camera_when_the_browser_allows_it(
    page: Page, base_url: str
) -> None:
    page.context.grant_permissions(["camera", "clipboard-read", "clipboard-write"], origin=base_url)
    page.goto("/")
    create_and_join(page)
    standin = page.frame(url=re.compile("/__daily__/"))
    assert standin is not None
    standin.wait_for_function("() => document.getElementById('preview').videoWidth > 0")
    expect(page.frame_locator("#frame iframe").locator("#camera-note")).to_be_hidden()
    # Leaving stops the camera.
    page.get_by_role("button", name="Leave call").click()
    expect(page.locator("#home")).to_be_visible()


def test_a_room_the_emulator_does_not_have_fails_clearly_and_daily_js_may_report_it(
    page: Page, browser_log: BrowserLog
) -> None:
    # daily-js reports such failures to Daily's Sentry; here a stand-in answers for Sentry.
    page.route("https://o77906.ingest.sentry.io/**", lambda route: route.fulfill(json={}))
    page.goto("/")
    page.get_by_label("Or enter room to join").fill("https://emulator.daily.co/no-such-room")
    with page.expect_request("https://o77906.ingest.sentry.io/**") as report:
        page.get_by_role("button", name="Join room").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("This room does not exist")
    expect(alert).to_be_focused()
    assert "/api/168844/envelope/" in report.value.url
    # The CSP lets the report through: no violation (the page fixture checks it too).
    assert browser_log.violations == []
