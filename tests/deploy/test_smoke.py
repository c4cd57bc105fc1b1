"""The smoke test (`deploy.py --smoke`, and the end of every deploy) against the local site.

The dev server stands in for CloudFront (site/, security headers, /api/* with CloudFront's
headers); the execute-api stand-in runs the handlers without those headers. Each check is shown
to fail on the misconfiguration it exists for, alone, with one line naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.local_stack import LocalStack
from scripts import smoke
from tests.deploy.conftest import (
    Deployer,
    FakeAws,
    LiveSite,
    Result,
    assert_one_line_failure,
)
from tests.deploy.http_doubles import ForwardingProxy


def passes(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("smoke: ")]


@pytest.fixture
def proxies() -> Iterator[list[ForwardingProxy]]:
    """Proxies a test starts, closed after it."""
    started: list[ForwardingProxy] = []
    yield started
    for proxy in started:
        proxy.close()


def test_smoke_passes_against_a_healthy_site(
    deploy: Deployer, deployed: FakeAws, site: Path
) -> None:
    result = deploy("--env", "ci", "--smoke")

    assert result.returncode == 0, result.output
    assert passes(result) == [
        "smoke: / answers 200 with the security headers",
        "smoke: /api/health answers JSON (Daily key configured: yes)",
        "smoke: a direct call to the execute-api URL is refused (403)",
    ]
    assert result.stderr == ""
    assert deploy.sam_calls() == []  # --smoke changes nothing
    assert deployed.version_counts() == {"stale.js": 1}
    assert deployed.invalidations() == []


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ("page headers", "/ lacks Content-Security-Policy"),
        (
            "weak csp",
            "/ sends other values than template.yaml's: Content-Security-Policy: default-src *",
        ),
        ("permissions policy", "/ lacks Permissions-Policy"),
        ("health", "/api/health answered 403 application/json, expected 200 JSON"),
        ("direct call", "answered 200, expected 403"),
    ],
)
def test_each_check_fails_alone_and_names_itself(
    deploy: Deployer,
    aws: FakeAws,
    live_site: LiveSite,
    proxies: list[ForwardingProxy],
    fresh_stack: LocalStack,
    broken: str,
    named: str,
) -> None:
    site_url, api_url = live_site.site_url, live_site.api_url
    if broken == "page headers":  # the response headers policy is not attached
        proxies.append(ForwardingProxy(site_url, drop_headers=["Content-Security-Policy"]))
        site_url = proxies[-1].url
    elif broken == "weak csp":  # a policy that lets any script in
        weak = {"Content-Security-Policy": "default-src *"}
        proxies.append(ForwardingProxy(site_url, set_headers=weak))
        site_url = proxies[-1].url
    elif broken == "permissions policy":  # the custom header is missing from the policy
        proxies.append(ForwardingProxy(site_url, drop_headers=["Permissions-Policy"]))
        site_url = proxies[-1].url
    elif broken == "health":  # CloudFront does not send X-Origin-Verify: the API refuses it
        proxies.append(ForwardingProxy(site_url, api_upstream=api_url))
        site_url = proxies[-1].url
    else:  # the execute-api URL answers without CloudFront in front
        api_url = site_url
    aws.create_stack(site_url, api_url, "http://127.0.0.1:9/v1")

    result = deploy("--env", "ci", "--smoke")

    assert_one_line_failure(result, named, prefix="smoke test failed: ")
    assert ";" not in result.stderr  # the other two checks passed
    assert len(passes(result)) == 2, result.stdout


def test_a_deploy_ends_with_the_smoke_test(
    deploy: Deployer,
    aws: FakeAws,
    live_site: LiveSite,
    fresh_stack: LocalStack,
    site: Path,
) -> None:
    aws.create_stack(live_site.site_url, live_site.site_url, "http://127.0.0.1:9/v1")

    result = deploy("--env", "ci", "--site", str(site), DAILY_API_KEY=None)

    assert_one_line_failure(result, "smoke test: a direct call to", "expected 403")
    assert set(aws.objects()) == {"index.html", "app.js", "styles.css", "img/logo.svg"}  # deployed


def test_https_sites_must_send_hsts_too() -> None:
    assert "Strict-Transport-Security" in smoke.required_headers("https://d111.cloudfront.net/")
    assert "Strict-Transport-Security" not in smoke.required_headers("http://127.0.0.1:3000/")


def test_a_site_that_never_answers_fails_after_the_retries() -> None:
    waits: list[float] = []

    with pytest.raises(smoke.SmokeFailure, match=r"GET http://127\.0\.0\.1:9/ failed"):
        smoke.fetch("http://127.0.0.1:9/", sleep=waits.append)

    assert waits == list(smoke.RETRY_DELAYS_SECONDS)
