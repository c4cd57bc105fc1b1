"""`deploy.py --store-key`: the key and Daily's domain go in with one write, never read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.local_stack import LocalStack
from tests.deploy.conftest import Deployer, FakeAws, LiveSite, assert_one_line_failure
from tests.deploy.http_doubles import ForwardingProxy

CLOSED_PORT_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there


@pytest.fixture
def secrets_proxy(moto_url: str) -> Iterator[ForwardingProxy]:
    """Secrets Manager (moto) behind a proxy that sees every operation deploy.py calls."""
    proxy = ForwardingProxy(moto_url)
    yield proxy
    proxy.close()


def operations(proxy: ForwardingProxy) -> list[str]:
    return [headers.get("x-amz-target", "") for headers in proxy.seen]


def test_key_and_domain_are_stored_without_reading_the_secret(
    deploy: Deployer,
    deployed: FakeAws,
    secrets_proxy: ForwardingProxy,
    api_key: str,
    fresh_stack: LocalStack,
) -> None:
    result = deploy(
        "--env", "ci", "--store-key", AWS_ENDPOINT_URL_SECRETS_MANAGER=secrets_proxy.url
    )

    assert result.returncode == 0, result.output
    assert fresh_stack.daily is not None
    assert json.loads(deployed.secret()) == {
        "apiKey": api_key,
        "domainId": fresh_stack.daily.domain_id,
        "domainName": fresh_stack.daily.domain,
    }
    assert operations(secrets_proxy) == [
        "secretsmanager.PutSecretValue",
        "secretsmanager.DescribeSecret",  # version labels only, no value
    ]
    assert deploy.sam_calls() == []  # only the key step ran
    assert deployed.version_counts() == {"stale.js": 1}
    assert api_key not in result.output


def test_the_same_key_twice_adds_no_version(
    deploy: Deployer, deployed: FakeAws, api_key: str
) -> None:
    for _ in range(2):
        assert deploy("--env", "ci", "--store-key").returncode == 0

    versions = deployed.secret_versions()

    assert len(versions) == 2  # the template's empty value, then the key once
    assert sum("AWSCURRENT" in labels for labels in versions.values()) == 1


def test_a_key_stored_before_becomes_current_again(
    deploy: Deployer, deployed: FakeAws, api_key: str, fresh_stack: LocalStack
) -> None:
    assert fresh_stack.daily is not None
    other = f"{api_key}-rotated"
    assert deploy("--env", "ci", "--store-key").returncode == 0
    fresh_stack.daily.set_api_key(other)
    assert deploy("--env", "ci", "--store-key", DAILY_API_KEY=other).returncode == 0
    fresh_stack.daily.set_api_key(api_key)

    back = deploy("--env", "ci", "--store-key")  # the first key again: an old version

    assert back.returncode == 0, back.output
    assert json.loads(deployed.secret())["apiKey"] == api_key
    assert len(deployed.secret_versions()) == 3


def test_without_an_answer_from_daily_the_key_is_stored_alone(
    deploy: Deployer, aws: FakeAws, live_site: LiveSite, api_key: str
) -> None:
    aws.create_stack(live_site.site_url, live_site.api_url, CLOSED_PORT_URL)

    result = deploy("--env", "ci", "--store-key")

    assert result.returncode == 0, result.output
    assert json.loads(aws.secret()) == {"apiKey": api_key}
    assert "the function will look it up itself" in result.stdout


def test_a_key_daily_refuses_is_not_stored(deploy: Deployer, deployed: FakeAws) -> None:
    result = deploy("--env", "ci", "--store-key", DAILY_API_KEY="not-a-daily-key")

    assert_one_line_failure(result, "Daily refused", "(401)", prefix="storing the key failed: ")
    assert json.loads(deployed.secret()) == {"apiKey": ""}
    assert "not-a-daily-key" not in result.output


def test_store_key_needs_the_key(deploy: Deployer, deployed: FakeAws, site: Path) -> None:
    result = deploy("--env", "ci", "--store-key", DAILY_API_KEY=None)

    assert_one_line_failure(result, "DAILY_API_KEY is not set", prefix="storing the key failed: ")
    assert len(deployed.secret_versions()) == 1
