"""The smoke test of a deployed stack: three requests that show the live site is wired right.

1. `/` through CloudFront answers 200 with the security headers, each exactly as template.yaml's
   response headers policy defines it (scripts/site_headers.py reads them), and HSTS over
   HTTPS.
2. `/api/health` through CloudFront answers 200 JSON with a boolean `configured`.
3. `/api/health` on the execute-api URL, which skips CloudFront, is refused with 403.

Every check runs; the failures come back as one line naming each.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python scripts/deploy.py`: the repository is not on it
    sys.path.append(str(ROOT))
from scripts.site_headers import template_headers  # noqa: E402

TIMEOUT_SECONDS = 10
# A distribution that was just created may not resolve yet: connection errors are tried again.
RETRY_DELAYS_SECONDS = (2, 5)
HTTPS_HEADERS = {"Strict-Transport-Security": None}  # browsers ignore it over plain HTTP


class SmokeFailure(Exception):
    """One or more checks failed; the message names each."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Message
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer to check, not to follow


_opener = urllib.request.build_opener(_NoRedirect)


def _get(url: str) -> Answer:
    if not url.startswith(("https://", "http://")):
        raise SmokeFailure(f"{url} is not an http(s) URL")
    # The scheme is checked above.
    request = urllib.request.Request(url, headers={"User-Agent": "daily-rooms-smoke"})  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:  # an error status is an answer too
        return Answer(error.code, error.headers, error.read())


def fetch(url: str, sleep: Callable[[float], None] = time.sleep) -> Answer:
    """GET `url`, trying again while it cannot connect; SmokeFailure if it never does."""
    for delay in RETRY_DELAYS_SECONDS:
        try:
            return _get(url)
        except OSError:  # URLError included
            sleep(delay)
    try:
        return _get(url)
    except OSError as error:
        reason = getattr(error, "reason", error)
        raise SmokeFailure(f"GET {url} failed: {reason}") from None


def required_headers(url: str) -> dict[str, str | None]:
    """The headers `/` must carry (None: any value) for a site at `url`: the template's, exactly."""
    page: dict[str, str | None] = dict(template_headers())
    return {**page, **(HTTPS_HEADERS if url.startswith("https://") else {})}


def _words(value: str) -> str:
    return " ".join(value.split())  # the template folds long values over lines


def check_page(site_url: str) -> str:
    answer = fetch(site_url)
    if answer.status != 200:
        raise SmokeFailure(f"/ answered {answer.status}, expected 200")
    missing, different = [], []
    for name, expected in required_headers(site_url).items():
        value = answer.headers.get(name)
        if not value:
            missing.append(name)
        elif expected is not None and _words(value) != _words(expected):
            different.append(f"{name}: {_words(value)}")
    problems = [f"lacks {', '.join(missing)}"] if missing else []
    if different:
        problems.append(f"sends other values than template.yaml's: {' | '.join(different)}")
    if problems:
        raise SmokeFailure(f"/ {' and '.join(problems)}")
    return "/ answers 200 with the security headers"


def check_health(site_url: str) -> str:
    answer = fetch(f"{site_url.rstrip('/')}/api/health")
    content_type = answer.headers.get("Content-Type", "")
    if answer.status != 200 or not content_type.startswith("application/json"):
        raise SmokeFailure(
            f"/api/health answered {answer.status} {content_type or 'without a type'}, "
            "expected 200 JSON"
        )
    try:
        configured = json.loads(answer.body)["configured"]
    except (ValueError, KeyError, TypeError):
        configured = None
    if not isinstance(configured, bool):
        raise SmokeFailure('/api/health answered JSON without a boolean "configured"')
    return f"/api/health answers JSON (Daily key configured: {'yes' if configured else 'no'})"


def check_direct_call_refused(api_url: str) -> str:
    url = f"{api_url.rstrip('/')}/api/health"
    answer = fetch(url)
    if answer.status != 403:
        raise SmokeFailure(f"a direct call to {url} answered {answer.status}, expected 403")
    return "a direct call to the execute-api URL is refused (403)"


def run_smoke(site_url: str, api_url: str, report: Callable[[str], None] = print) -> None:
    """Run every check, report each pass, and raise one SmokeFailure naming every failure."""
    checks = (
        lambda: check_page(site_url),
        lambda: check_health(site_url),
        lambda: check_direct_call_refused(api_url),
    )
    failures = []
    for check in checks:
        try:
            report(f"smoke: {check()}")
        except SmokeFailure as failure:
            failures.append(str(failure))
    if failures:
        raise SmokeFailure("; ".join(failures))
