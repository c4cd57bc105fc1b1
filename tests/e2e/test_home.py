"""The home view: daily-js from the pinned CDN, the join field, setup banner, errors and focus."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from localdev.local_stack import LocalStack
from tests.e2e.conftest import (
    DAILY_CDN_URL,
    DAILY_JS,
    DAILY_JS_VERSION,
    JOINED,
    BrowserLog,
    sri_sha384,
)

pytestmark = pytest.mark.e2e

CREATE = "Create room and start"
FIELD = "Or enter room to join"

# What is typed or pasted -> the room URL that Join opens.
ACCEPTED = [
    ("https://your-team.daily.co/room-name", "https://your-team.daily.co/room-name"),
    ("https://a.daily.co/R_9-x/", "https://a.daily.co/R_9-x"),
    ("your-team.daily.co/room-name", "https://your-team.daily.co/room-name"),
    ("  https://team.daily.co/standup  ", "https://team.daily.co/standup"),
    ("HTTPS://Team.Daily.CO/Standup", "https://team.daily.co/Standup"),
    ("Team.Daily.co/retro", "https://team.daily.co/retro"),
    # Wrapped by an e-mail or chat client: spaces, a tab, a line break, a zero-width space.
    ("https://team.daily.co/stand up", "https://team.daily.co/standup"),
    ("https://team.\tdaily.co/ \nstand-\r\nup", "https://team.daily.co/stand-up"),
    ("https://team.daily.co/stand\u200bup", "https://team.daily.co/standup"),
    # https's own port is the same address.
    ("https://team.daily.co:443/standup", "https://team.daily.co/standup"),
]

# What is typed -> the start of the message shown on blur (each case has its own).
REFUSED = [
    ("http://your-team.daily.co/room-name", "Room links start with https://"),
    ("ftp://your-team.daily.co/room", "Room links start with https://"),
    ("hello", "That is not a Daily room link"),
    ("https://daily.co/room-name", "That is not a Daily room link"),
    ("https://your-team.daily.com/room-name", "That is not a Daily room link"),
    ("https://evil.example/your-team.daily.co/room", "That is not a Daily room link"),
    ("https://-team.daily.co/room", "That is not a Daily room link"),
    ("https://your-team.daily.co/", "The link has no room name"),
    ("https://your-team.daily.co/room/extra", "Remove the extra path"),
    ("https://your-team.daily.co/room?t=token", "Remove everything from the ?"),
    ("https://your-team.daily.co/room#chat", "Remove everything from the #"),
    ("https://your-team.daily.co/room!", "Room names use only letters"),
    ("https://your-team.daily.co/r%C3%A9union", "Room names use only letters"),
    ("user@your-team.daily.co/room", "Remove everything up to the @"),
    ("https://user:secret@your-team.daily.co/room", "Remove everything up to the @"),
    ("https://your-team.daily.co@evil.example/room", "That is not a Daily room link"),
    ("your-team.daily.co:444/room", "Remove the port"),
    ("https://your-team.daily.co:8443/room", "Remove the port"),
]


def test_daily_js_loads_from_the_pinned_cdn_url_with_a_matching_integrity_hash(
    page: Page, browser_log: BrowserLog
) -> None:
    page.goto("/")
    script = page.locator('script[src*="unpkg.com"]')
    expect(script).to_have_attribute("src", DAILY_CDN_URL)
    expect(script).to_have_attribute("integrity", sri_sha384(DAILY_JS))
    expect(script).to_have_attribute("crossorigin", "anonymous")
    # The browser checked SRI before running it, so a loaded library means the hash is right.
    assert page.evaluate("() => window.Daily?.version()") == DAILY_JS_VERSION
    assert browser_log.mentions("integrity") == []


def test_the_csp_lets_only_the_pinned_daily_js_file_run(
    page: Page, browser_log: BrowserLog
) -> None:
    """Chromium matches the CSP source's full path: every other file on unpkg is refused."""
    others = [
        DAILY_CDN_URL.replace(DAILY_JS_VERSION, "0.92.1"),
        DAILY_CDN_URL.replace("daily.js", "daily-esm.js"),
        "https://unpkg.com/any-package@1.0.0/index.js",
    ]
    for url in others:
        browser_log.expect(f"Loading the script '{url}' violates")
    page.goto("/")
    assert page.evaluate("() => window.Daily?.version()") == DAILY_JS_VERSION
    refused = page.evaluate(
        """(urls) => Promise.all(urls.map((src) => new Promise((resolve) => {
            const script = Object.assign(document.createElement("script"), { src });
            script.onload = () => resolve(`${src} ran`);
            script.onerror = () => resolve(`${src} refused`);
            document.head.append(script);
        })))""",
        others,
    )
    assert refused == [f"{url} refused" for url in others]
    # Refused by the CSP itself, before any request: the test's router never saw them.
    assert browser_log.blocked == []
    for _ in range(50):  # the reports reach the test through a binding, a moment later
        if len(browser_log.violations) >= len(others):
            break
        page.wait_for_timeout(100)
    assert sorted(browser_log.violations) == sorted(
        f"script-src-elem blocked {url} in {page.url}" for url in others
    )
    browser_log.violations.clear()  # these, and only these, were the point of the test


def test_page_has_no_inline_scripts_or_styles(page: Page) -> None:
    page.goto("/")
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("style, [style]").count() == 0
    assert page.evaluate("() => document.title") == "Instant Daily video rooms"


def test_join_field_accepts_and_normalizes(page: Page) -> None:
    page.route("https://*.daily.co/**", lambda route: route.abort("blockedbyclient"))
    page.goto("/")
    field = page.get_by_label(FIELD)
    for typed, opened in ACCEPTED:
        field.fill(typed)
        field.blur()
        expect(field, typed).to_have_attribute("aria-invalid", "false")
        expect(page.locator("#room-url-error"), typed).to_be_empty()
        page.get_by_role("button", name="Join room").click()
        expect(page.get_by_label("Direct Daily link"), typed).to_have_value(opened)
        page.get_by_role("button", name="Leave call").click()
        expect(page.locator("#home")).to_be_visible()


def test_join_field_explains_each_refusal_on_blur_not_while_typing(page: Page) -> None:
    page.goto("/")
    field = page.get_by_label(FIELD)
    join = page.get_by_role("button", name="Join room")
    error = page.locator("#room-url-error")
    for typed, message in REFUSED:
        field.fill("https://start.daily.co/room")
        expect(join).to_be_enabled()
        field.fill(typed)
        # Checked as you type (Join follows), but not explained before leaving the field.
        expect(join, typed).to_be_disabled()
        expect(field, typed).to_have_attribute("aria-invalid", "false")
        expect(error, typed).to_be_empty()
        field.blur()
        expect(field, typed).to_have_attribute("aria-invalid", "true")
        expect(error, typed).to_have_text(re.compile("^" + re.escape(message)))
        # Once shown, the message follows the typing and goes away when the link is right.
        field.fill("https://team.daily.co/room")
        expect(error, typed).to_be_empty()
        expect(field, typed).to_have_attribute("aria-invalid", "false")


def test_enter_on_a_refused_link_explains_it(page: Page) -> None:
    page.goto("/")
    field = page.get_by_label(FIELD)
    field.fill("http://team.daily.co/room")
    field.press("Enter")
    expect(page.locator("#room-url-error")).to_contain_text("https://")
    expect(field).to_be_focused()
    expect(page.locator("#call")).to_be_hidden()


def test_a_pasted_link_with_spaces_and_newlines_inside_is_accepted(page: Page) -> None:
    page.route("https://*.daily.co/**", lambda route: route.abort("blockedbyclient"))
    page.goto("/")
    wrapped = "  https://Team.daily.co/\\nstand up\\r\\n"  # as an e-mail client wraps it
    page.evaluate(f"() => navigator.clipboard.writeText('{wrapped}')")
    field = page.get_by_label(FIELD)
    field.focus()
    field.press("ControlOrMeta+V")
    expect(field).not_to_have_value("")
    expect(page.get_by_role("button", name="Join room")).to_be_enabled()
    field.blur()
    expect(page.locator("#room-url-error")).to_be_empty()
    page.get_by_role("button", name="Join room").click()
    expect(page.get_by_label("Direct Daily link")).to_have_value("https://team.daily.co/standup")
    page.get_by_role("button", name="Leave call").click()


def test_not_configured_shows_the_visitor_banner_and_disables_create(
    page: Page, fresh_stack: LocalStack
) -> None:
    fresh_stack.set_configured(False)
    page.goto("/")
    banner = page.locator("#config-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Room creation is unavailable right now")
    expect(banner).to_contain_text("join an existing room")
    # Operator instructions belong in the README and the function's log, not in the page's
    # own words (the dev server's hint is its own paragraph: test_invites_and_limits.py).
    visitor_part = banner.locator(":scope > :not(#config-dev-hint)")
    for operator_word in ("Secrets Manager", "secret", "README", "apiKey", "key"):
        for part in visitor_part.all():
            expect(part).not_to_contain_text(operator_word)
    expect(page.get_by_role("button", name=CREATE)).to_be_disabled()
    # The lifetime choice goes with Create: shown (the server says its range), but off.
    expect(page.locator("#lifetime")).to_be_visible()
    radios = page.get_by_role("radio")
    expect(radios).to_have_count(4)
    for radio in radios.all():
        expect(radio).to_be_disabled()
    # Joining an existing room still works without a key.
    page.get_by_label(FIELD).fill("https://team.daily.co/room")
    expect(page.get_by_role("button", name="Join room")).to_be_enabled()


def test_key_removed_after_load_shows_the_banner_on_create(
    page: Page, fresh_stack: LocalStack, browser_log: BrowserLog
) -> None:
    browser_log.expect("status of 503")
    with page.expect_response("**/api/health"):
        page.goto("/")
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()
    fresh_stack.set_configured(False)
    page.get_by_role("button", name=CREATE).click()
    banner = page.locator("#config-banner")
    expect(banner).to_be_visible()
    expect(banner).to_be_focused()
    expect(page.get_by_role("button", name=CREATE)).to_be_disabled()
    expect(page.get_by_role("radio", name="15 min", exact=True)).to_be_disabled()
    assert page.locator("iframe").count() == 0


def test_configured_hides_the_banner(page: Page) -> None:
    with page.expect_response("**/api/health") as health:
        page.goto("/")
    assert health.value.json()["configured"] is True
    expect(page.locator("#config-banner")).to_be_hidden()
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()
    expect(page.get_by_role("radio", name="15 min", exact=True)).to_be_enabled()


def test_api_failure_shows_the_server_message_and_focuses_it(
    page: Page, fresh_stack: LocalStack, browser_log: BrowserLog
) -> None:
    assert fresh_stack.daily is not None
    browser_log.expect("status of 502")
    fresh_stack.daily.inject(status=500, times=10)
    page.goto("/")
    with page.expect_response("**/api/rooms") as response_info:
        page.get_by_role("button", name=CREATE).click()
    response = response_info.value
    assert response.status == 502
    body = response.json()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(body["message"])
    expect(alert).to_contain_text(body["requestId"])
    expect(alert).to_be_focused()
    expect(page.locator("#home")).to_be_visible()
    assert page.locator("iframe").count() == 0
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()


def test_unreachable_api_gets_a_clear_message_and_the_focus(
    page: Page, browser_log: BrowserLog
) -> None:
    browser_log.expect("net::ERR_CONNECTION_REFUSED")
    page.goto("/")
    page.route("**/api/rooms", lambda route: route.abort("connectionrefused"))
    page.get_by_role("button", name=CREATE).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Could not reach the server")
    expect(alert).to_be_focused()
    assert page.locator("iframe").count() == 0


def rate_limited(retry_after: int) -> object:
    """A 429 as the API sends it, whose message rounds the wait to the nearest minute."""

    def answer(route: Route) -> None:
        body = {
            "error": "rate_limited",
            "message": "You can create 5 rooms every 10 minutes. Please try again in 7 minutes.",
            "requestId": "c0ffee00-0000-4000-8000-000000000000",
        }
        headers = {"Retry-After": str(retry_after)}
        route.fulfill(status=429, headers=headers, json=body)

    return answer


def test_a_429_shows_the_servers_message_and_a_countdown_from_retry_after(
    page: Page, browser_log: BrowserLog
) -> None:
    browser_log.expect("status of 429")
    page.goto("/")
    page.route("**/api/rooms", rate_limited(443))
    page.get_by_role("button", name=CREATE).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        "You can create 5 rooms every 10 minutes. Please try again in 7 minutes."
    )
    expect(alert).to_contain_text("c0ffee00-0000-4000-8000-000000000000")
    expect(alert).to_be_focused()
    create = page.locator("#create")
    expect(create).to_be_disabled()
    expect(create).to_have_text(re.compile(r"Create again in 7:2[23]"))


def test_the_real_limiter_turns_create_off_for_its_retry_after(
    page: Page, base_url: str, browser_log: BrowserLog
) -> None:
    browser_log.expect("status of 429")
    page.goto("/")
    limit = 5  # the functions' default VIEWER_ROOM_LIMIT, which the local stack keeps
    for _ in range(limit):
        created = requests.post(base_url + "/api/rooms", json={}, timeout=10)
        assert created.status_code == 201
    with page.expect_response("**/api/rooms") as refused:
        page.get_by_role("button", name=CREATE).click()
    assert refused.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text(refused.value.json()["message"])
    wait = int(refused.value.headers["retry-after"])
    shown = page.locator("#create").inner_text().removeprefix("Create again in ")
    minutes, secs = shown.split(":")
    assert wait - 2 <= int(minutes) * 60 + int(secs) <= wait


def test_double_click_creates_exactly_one_room_and_shows_progress(
    page: Page, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    fresh_stack.daily.inject(method="POST", path_prefix="/rooms", delay=1.0)
    page.goto("/")
    button = page.locator("#create")
    button.dblclick()
    expect(button).to_be_disabled()
    expect(button).to_have_attribute("aria-busy", "true")
    expect(button).to_contain_text("Creating room")
    page.evaluate("() => { const b = document.getElementById('create'); b.click(); b.click(); }")
    page.wait_for_function(JOINED)
    fresh_stack.daily.wait_idle()
    assert len(fresh_stack.daily.calls(method="POST", path_prefix="/rooms")) == 1
    assert len(fresh_stack.daily.rooms) == 1


def test_health_body_drives_nothing_it_does_not_say(page: Page) -> None:
    """An older API without `ttl` still works: no lifetime choice, and creates send {}."""
    page.route(
        "**/api/health",
        lambda route: route.fulfill(status=200, json={"configured": True}),
    )
    page.goto("/")
    expect(page.get_by_role("button", name=CREATE)).to_be_enabled()
    expect(page.locator("#lifetime")).to_be_hidden()
    with page.expect_request("**/api/rooms") as sent:
        page.get_by_role("button", name=CREATE).click()
    assert json.loads(sent.value.post_data or "") == {}
    page.wait_for_function(JOINED)
