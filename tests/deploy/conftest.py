"""scripts/deploy.py as a subprocess against moto's server, a CloudFormation double and a `sam`
double on PATH.

moto holds what the stack's resources are (bucket, distribution, secrets, log groups, table);
tests/deploy/cloudformation_double.py is CloudFormation (AWS_ENDPOINT_URL_CLOUDFORMATION), whose
stacks tests/deploy/template_resources.py fills in moto; tests/deploy/sam_double.py answers as
SAM CLI does. The stack's SiteUrl and ApiUrl point at local stand-ins for CloudFront and the
execute-api URL (the dev server, and the handlers called without CloudFront's headers), and its
DailyApiUrl at the Daily emulator, so a deploy runs its key step and smoke test offline.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from localdev.local_stack import LocalStack
from localdev.server import DevServer
from tests.deploy.cloudformation_double import CloudFormationDouble
from tests.deploy.http_doubles import ExecuteApiStandIn
from tests.deploy.template_resources import TemplateResources

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STACK = "daily-rooms-ci"  # samconfig.toml's stack_name for --env ci
SAM_DOUBLE = Path(__file__).with_name("sam_double.py")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def assert_one_line_failure(result: Result, *words: str, prefix: str = "deploy failed: ") -> None:
    """Exit code 1 and exactly one line on stderr naming the problem, no traceback."""
    assert result.returncode == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.output


@dataclass
class FakeAws:
    """moto on loopback, CloudFormation's double, and the stack a real deploy would have."""

    url: str
    cloudformation: CloudFormationDouble
    bucket: str = ""
    distribution_id: str = ""
    secret_arn: str = ""

    def client(self, service: str, region: str = REGION) -> Any:
        endpoint = self.cloudformation.url if service == "cloudformation" else self.url
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    @property
    def resources(self) -> TemplateResources:
        return self.cloudformation.resources  # type: ignore[return-value]

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        self.cloudformation.reset()
        self.cloudformation.resources = TemplateResources(self.url)

    def use_site(self, site_url: str, api_url: str, daily_api_url: str) -> None:
        """Where the stacks made from now on say their site, API and Daily are."""
        self.resources.site_url = site_url
        self.resources.api_url = api_url
        self.resources.daily_api_url = daily_api_url

    def create_stack(
        self, site_url: str, api_url: str, daily_api_url: str, name: str = STACK
    ) -> dict[str, str]:
        """The stack as an earlier `sam deploy` left it (a CREATE change set, executed)."""
        self.use_site(site_url, api_url, daily_api_url)
        cloudformation = self.client("cloudformation")
        change_set = cloudformation.create_change_set(
            StackName=name,
            ChangeSetName="earlier-deploy",
            ChangeSetType="CREATE",
            TemplateURL="https://s3.amazonaws.com/artifacts/earlier.template",
        )
        cloudformation.execute_change_set(ChangeSetName=change_set["Id"], StackName=name)
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        self.bucket = outputs["SiteBucketName"]
        self.distribution_id = outputs["DistributionId"]
        self.secret_arn = outputs["DailyApiKeySecretArn"]
        # Versions count the uploads: an unchanged file must not gain one.
        self.client("s3").put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
        return outputs

    def stack(self, name: str = STACK, region: str = REGION) -> dict[str, Any] | None:
        """What DescribeStacks says of the stack, or None when there is none."""
        found = self.cloudformation.stack(region, name)
        if found is None:
            return None
        return self.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"][0]

    def objects(self) -> dict[str, dict]:
        """Current objects by key, with their headers."""
        s3 = self.client("s3")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
        return {key: s3.head_object(Bucket=self.bucket, Key=key) for key in keys}

    def version_counts(self) -> dict[str, int]:
        versions = self.client("s3").list_object_versions(Bucket=self.bucket).get("Versions", [])
        counts: dict[str, int] = {}
        for version in versions:
            counts[version["Key"]] = counts.get(version["Key"], 0) + 1
        return counts

    def invalidations(self) -> list[dict]:
        listing = self.client("cloudfront").list_invalidations(DistributionId=self.distribution_id)
        return listing["InvalidationList"].get("Items", [])

    def secret(self) -> str:
        """The current value. The stage is named because moto, unlike Secrets Manager, answers
        a call without one from the version it last wrote, not the one labelled AWSCURRENT."""
        secrets = self.client("secretsmanager")
        current = secrets.get_secret_value(SecretId=self.secret_arn, VersionStage="AWSCURRENT")
        return current["SecretString"]

    def secret_versions(self) -> dict[str, list[str]]:
        described = self.client("secretsmanager").describe_secret(SecretId=self.secret_arn)
        return described["VersionIdsToStages"]


@dataclass
class LiveSite:
    """What a deployed stack's SiteUrl and ApiUrl answer, run locally."""

    dev: DevServer  # SiteUrl: CloudFront's behaviours and headers
    execute_api: ExecuteApiStandIn  # ApiUrl: the handlers without CloudFront's headers

    @property
    def site_url(self) -> str:
        return self.dev.url

    @property
    def api_url(self) -> str:
        return self.execute_api.url

    def new_containers(self, stack: LocalStack) -> None:
        """Both URLs answer with new containers of the functions, which read the secrets anew."""
        self.dev.use_stack(stack)
        self.dev.offline = None
        self.execute_api.new_containers()


@pytest.fixture(scope="session")
def live_servers(stack: LocalStack) -> Iterator[LiveSite]:
    dev = DevServer("127.0.0.1", 0)
    dev.use_stack(stack)
    dev.offline = (
        None  # CloudFront serves the page as deployed: no offline call, no frame-src 'self'
    )
    threading.Thread(target=dev.serve_forever, daemon=True).start()
    execute_api = ExecuteApiStandIn()
    yield LiveSite(dev, execute_api)
    execute_api.close()
    dev.shutdown()
    dev.server_close()


@pytest.fixture
def live_site(live_servers: LiveSite, fresh_stack: LocalStack) -> LiveSite:
    """The live site on the reset stack, with new containers of the functions."""
    live_servers.new_containers(fresh_stack)
    return live_servers


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server in a process of its own: resetting it leaves the local stack's moto alone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=5).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"moto's server did not start on port {port}")
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="session")
def cloudformation_double(moto_url: str) -> Iterator[CloudFormationDouble]:
    double = CloudFormationDouble(TemplateResources(moto_url))
    yield double
    double.close()


@pytest.fixture
def aws(moto_url: str, cloudformation_double: CloudFormationDouble) -> FakeAws:
    """A moto and a CloudFormation with nothing in them."""
    fake = FakeAws(moto_url, cloudformation_double)
    fake.reset()
    return fake


@pytest.fixture
def deployed(aws: FakeAws, live_site: LiveSite, fresh_stack: LocalStack) -> FakeAws:
    """A moto holding the stack (as `sam deploy` would leave it) with one stale object."""
    assert fresh_stack.daily is not None
    aws.create_stack(live_site.site_url, live_site.api_url, fresh_stack.daily.base_url)
    aws.client("s3").put_object(Bucket=aws.bucket, Key="stale.js", Body=b"old")
    return aws


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "img").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>Rooms</title>\n")
    (folder / "app.js").write_text("console.log('rooms');\n")
    (folder / "styles.css").write_text("body { margin: 0; }\n")
    (folder / "img" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


@dataclass
class Deployer:
    """Runs scripts/deploy.py the way a user does, with `sam` replaced by the SAM CLI double."""

    env: dict[str, str]
    sam_log: Path

    def __call__(self, *args: str, **env: str | None) -> Result:
        environment = {**self.env, **env}
        environment = {k: v for k, v in environment.items() if v is not None}
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "deploy.py"), *args],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def sam(self, *args: str, **env: str | None) -> Result:
        """`sam ARGS` run by hand, without deploy.py, in the same environment."""
        environment = {k: v for k, v in {**self.env, **env}.items() if v is not None}
        done = subprocess.run(
            ["sam", *args],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def sam_runs(self) -> list[dict[str, Any]]:
        """Each `sam` call: its argv and environment."""
        if not self.sam_log.exists():
            return []
        return [json.loads(line) for line in self.sam_log.read_text().splitlines()]

    def sam_calls(self) -> list[str]:
        return [" ".join(run["argv"]) for run in self.sam_runs()]

    def sam_environment(self, command: str) -> dict[str, str]:
        """The environment the last `sam <command>` ran with."""
        runs = [run for run in self.sam_runs() if run["argv"][:1] == [command]]
        return runs[-1]["env"]


@pytest.fixture
def api_key(fresh_stack: LocalStack) -> str:
    """The key the Daily emulator accepts."""
    return fresh_stack.api_key


def install_sam_double(folder: Path) -> Path:
    """A `sam` on PATH that runs the SAM CLI double with this Python."""
    folder.mkdir(exist_ok=True)
    sam = folder / "sam"
    sam.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{SAM_DOUBLE}" "$@"\n')
    sam.chmod(0o755)
    return folder


@pytest.fixture
def deploy(
    tmp_path: Path, moto_url: str, cloudformation_double: CloudFormationDouble, api_key: str
) -> Deployer:
    """deploy.py with fake credentials, AWS_ENDPOINT_URL at moto, CloudFormation at its double,
    the region in AWS_DEFAULT_REGION and DAILY_API_KEY set."""
    bin_dir = install_sam_double(tmp_path / "bin")
    sam_log = tmp_path / "sam-calls.jsonl"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ENDPOINT_URL_CLOUDFORMATION": cloudformation_double.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "DAILY_API_KEY": api_key,
        "SAM_DOUBLE_LOG": str(sam_log),
    }
    return Deployer(env, sam_log)
