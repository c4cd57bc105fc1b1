"""scripts/deploy.py end to end against moto: sync and its order, invalidation, secret, dry run
and failures, on a stack that exists (test_lifecycle.py covers creating and deleting it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev.local_stack import LocalStack
from tests.deploy.conftest import Deployer, FakeAws, Result, assert_one_line_failure
from tests.deploy.http_doubles import ForwardingProxy

EXPECTED_HEADERS = {
    "index.html": ("text/html; charset=utf-8", "no-cache"),
    "app.js": ("text/javascript; charset=utf-8", "public, max-age=300"),
    "styles.css": ("text/css; charset=utf-8", "public, max-age=300"),
    "img/logo.svg": ("image/svg+xml", "public, max-age=300"),
}


def test_a_deploy_publishes_the_site(
    deploy: Deployer, deployed: FakeAws, site: Path, api_key: str, fresh_stack: LocalStack
) -> None:
    result = deploy("--env", "ci", "--site", str(site))

    assert result.returncode == 0, result.output
    objects = deployed.objects()
    assert set(objects) == set(EXPECTED_HEADERS)  # stale.js removed, .DS_Store left out
    for key, (content_type, cache_control) in EXPECTED_HEADERS.items():
        assert objects[key]["ContentType"] == content_type, key
        assert objects[key]["CacheControl"] == cache_control, key
    body = deployed.client("s3").get_object(Bucket=deployed.bucket, Key="app.js")["Body"]
    assert body.read() == (site / "app.js").read_bytes()
    [invalidation] = deployed.invalidations()
    paths = deployed.client("cloudfront").get_invalidation(
        DistributionId=deployed.distribution_id, Id=invalidation["Id"]
    )["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert paths == ["/*"]
    assert fresh_stack.daily is not None
    assert json.loads(deployed.secret()) == {
        "apiKey": api_key,
        "domainId": fresh_stack.daily.domain_id,
        "domainName": fresh_stack.daily.domain,
    }
    assert api_key not in result.output
    assert deploy.sam_calls() == [
        "build --config-env ci --region us-east-1",
        "deploy --config-env ci --region us-east-1 --resolve-s3",
    ]
    smoke = [line for line in result.stdout.splitlines() if line.startswith("smoke: ")]
    assert len(smoke) == 3, result.stdout
    assert result.stdout.splitlines()[-1].startswith("site: http://127.0.0.1:")


def test_sam_never_sees_the_daily_key(
    deploy: Deployer, deployed: FakeAws, site: Path, api_key: str
) -> None:
    result = deploy("--env", "ci", "--site", str(site))

    assert result.returncode == 0, result.output
    assert json.loads(deployed.secret())["apiKey"] == api_key  # the key was there to leak
    for command in ("build", "deploy"):
        environment = deploy.sam_environment(command)
        assert environment["AWS_ACCESS_KEY_ID"] == "testing", command  # the real environment
        assert "DAILY_API_KEY" not in environment, command
        assert not any(api_key in value for value in environment.values()), command


def test_second_deploy_uploads_only_what_changed(
    deploy: Deployer, deployed: FakeAws, site: Path, api_key: str
) -> None:
    assert deploy("--env", "ci", "--site", str(site)).returncode == 0
    versions = deployed.version_counts()

    unchanged = deploy("--env", "ci", "--site", str(site))

    assert unchanged.returncode == 0, unchanged.output
    assert deployed.version_counts() == versions
    assert len(deployed.invalidations()) == 1
    assert "4 file(s) unchanged" in unchanged.stdout
    assert len(deployed.secret_versions()) == 2  # the template's empty value and the key
    assert api_key not in unchanged.output

    (site / "app.js").write_text("console.log('rooms v2');\n")
    changed = deploy("--env", "ci", "--site", str(site))

    assert changed.returncode == 0, changed.output
    after = deployed.version_counts()
    assert after["app.js"] == versions["app.js"] + 1
    assert {k: v for k, v in after.items() if k != "app.js"} == {
        k: v for k, v in versions.items() if k != "app.js"
    }
    assert len(deployed.invalidations()) == 2


def test_skip_build_runs_only_sam_deploy(deploy: Deployer, deployed: FakeAws, site: Path) -> None:
    result = deploy("--env", "ci", "--site", str(site), "--skip-build")

    assert result.returncode == 0, result.output
    assert deploy.sam_calls() == ["deploy --config-env ci --region us-east-1 --resolve-s3"]


def test_without_daily_api_key_the_secret_is_left_alone(
    deploy: Deployer, deployed: FakeAws, site: Path
) -> None:
    result = deploy("--env", "ci", "--site", str(site), DAILY_API_KEY=None)

    assert result.returncode == 0, result.output
    assert json.loads(deployed.secret()) == {"apiKey": ""}
    assert "DAILY_API_KEY" not in result.stdout


def test_dry_run_prints_the_plan_and_changes_nothing(
    deploy: Deployer, deployed: FakeAws, site: Path, api_key: str
) -> None:
    before = deployed.version_counts()

    result = deploy("--env", "ci", "--site", str(site), "--dry-run")

    assert result.returncode == 0, result.output
    assert deployed.version_counts() == before == {"stale.js": 1}
    assert deployed.invalidations() == []
    assert json.loads(deployed.secret()) == {"apiKey": ""}
    assert deploy.sam_calls() == []
    for line in (
        "would run: sam build --config-env ci --region us-east-1",
        "would run: sam deploy --config-env ci --region us-east-1 --resolve-s3",
        "would upload index.html (new; text/html; charset=utf-8; no-cache)",
        "would delete stale.js (no longer in site/)",
        f"would invalidate /* on distribution {deployed.distribution_id}",
        f"would store DAILY_API_KEY in {deployed.secret_arn}",
    ):
        assert line in result.stdout.splitlines()
    assert "would smoke-test" in result.stdout
    assert "smoke: " not in result.stdout
    assert api_key not in result.output


def test_missing_stack_is_one_line(deploy: Deployer, aws: FakeAws) -> None:
    result = deploy("--env", "ci", "--smoke")

    assert_one_line_failure(result, "daily-rooms-ci", "not found in us-east-1", prefix="smoke test")


def test_missing_credentials_is_one_line_before_any_build(
    deploy: Deployer, deployed: FakeAws, site: Path
) -> None:
    result = deploy(
        "--env", "ci", "--site", str(site), AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None
    )

    assert_one_line_failure(result, "no AWS credentials")
    assert deploy.sam_calls() == []


def test_failing_sam_deploy_stops_before_the_upload(
    deploy: Deployer, deployed: FakeAws, site: Path, api_key: str
) -> None:
    deployed.resources.failures["CreateRoomFunction"] = "Resource handler returned message: x"

    result = deploy("--env", "ci", "--site", str(site))

    sam_error, deploy_error = result.stderr.strip().splitlines()
    assert_one_line_failure(
        Result(result.returncode, result.stdout, deploy_error), "sam deploy failed (exit code 1)"
    )
    assert sam_error.startswith("Error: Failed to create/update the stack: daily-rooms-ci")
    assert "UPDATE_ROLLBACK_COMPLETE" in sam_error  # the stack is back as it was
    assert deployed.version_counts() == {"stale.js": 1}
    assert json.loads(deployed.secret()) == {"apiKey": ""}
    assert api_key not in result.output


def test_unknown_environment_names_the_known_ones(deploy: Deployer, site: Path) -> None:
    result = deploy("--env", "qa", "--site", str(site))

    assert_one_line_failure(result, "'qa'", "'ci'", "'prod'", "'staging'")


def test_missing_region_is_one_line(deploy: Deployer, deployed: FakeAws, site: Path) -> None:
    result = deploy("--env", "ci", "--site", str(site), AWS_DEFAULT_REGION=None)

    assert_one_line_failure(result, "no AWS region")
    assert deploy.sam_calls() == []


@pytest.fixture
def s3_proxy(moto_url: str) -> Iterator[ForwardingProxy]:
    """S3 (moto) behind a proxy that records every request deploy.py sends, in order."""
    proxy = ForwardingProxy(moto_url)
    yield proxy
    proxy.close()


def test_pages_go_up_after_the_files_they_name_and_stale_files_go_last(
    deploy: Deployer, deployed: FakeAws, site: Path, s3_proxy: ForwardingProxy
) -> None:
    (site / "about.html").write_text("<!doctype html><title>About</title>\n")

    result = deploy("--env", "ci", "--site", str(site), AWS_ENDPOINT_URL_S3=s3_proxy.url)

    assert result.returncode == 0, result.output
    prefix = f"/{deployed.bucket}/"
    puts = [path[len(prefix) :] for method, path in s3_proxy.requests if method == "PUT"]
    changes = [
        "delete" if method == "POST" and path.endswith("?delete") else path[len(prefix) :]
        for method, path in s3_proxy.requests
        if method == "PUT" or (method == "POST" and path.endswith("?delete"))
    ]
    assert sorted(puts) == ["about.html", "app.js", "img/logo.svg", "index.html", "styles.css"]
    assert changes == ["app.js", "img/logo.svg", "styles.css", "about.html", "index.html", "delete"]
    uploads = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("upload")]
    assert uploads == changes[:-1]  # it says what it does, in that order


def test_a_stale_file_the_bucket_refuses_to_delete_fails_the_deploy(
    deploy: Deployer, deployed: FakeAws, site: Path
) -> None:
    """DeleteObjects answers 200 with the keys it could not delete: they must not pass as done."""
    refuse = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                "Resource": f"arn:aws:s3:::{deployed.bucket}/stale.js",
            }
        ],
    }
    deployed.client("s3").put_bucket_policy(Bucket=deployed.bucket, Policy=json.dumps(refuse))

    result = deploy("--env", "ci", "--site", str(site))

    assert_one_line_failure(result, deployed.bucket, "refused to delete 1 object(s)", "stale.js")
    assert "AccessDenied" in result.stderr
    assert "stale.js" in deployed.objects()
    assert "smoke: " not in result.stdout  # it stopped there
