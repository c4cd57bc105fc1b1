"""scripts/deploy.py as a subprocess against moto's server, with a stub `sam` on PATH."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
STACK = "daily-rooms-ci"  # samconfig.toml's stack_name for --env ci

SAM_STUB = """#!/bin/sh
echo "$*" >> "$SAM_STUB_LOG"
if [ "$1" = deploy ] && [ -n "$SAM_STUB_DEPLOY_FAILS" ]; then
  echo "Error: Failed to create changeset for the stack: $SAM_STUB_DEPLOY_FAILS" >&2
  exit 1
fi
exit 0
"""


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class FakeAws:
    """moto on loopback plus the stack, distribution and secret a real deploy would have."""

    url: str
    bucket: str = ""
    distribution_id: str = ""
    secret_arn: str = ""

    def client(self, service: str):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def create_stack(self) -> None:
        """The outputs deploy.py reads, from a template moto can create."""
        cloudfront = self.client("cloudfront")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": secrets.token_hex(8),
                "Comment": "test",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [{"Id": "site", "DomainName": "site.s3.amazonaws.com"}],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site",
                    "ViewerProtocolPolicy": "redirect-to-https",
                },
            }
        )["Distribution"]
        self.distribution_id = distribution["Id"]
        self.secret_arn = self.client("secretsmanager").create_secret(
            Name="daily-rooms-ci-key", SecretString='{"apiKey": ""}'
        )["ARN"]
        template = {
            "Resources": {"SiteBucket": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {
                "SiteBucketName": {"Value": {"Ref": "SiteBucket"}},
                "DistributionId": {"Value": self.distribution_id},
                "DailyApiKeySecretArn": {"Value": self.secret_arn},
                "SiteUrl": {"Value": f"https://{distribution['DomainName']}"},
            },
        }
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
        outputs = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
        self.bucket = {o["OutputKey"]: o["OutputValue"] for o in outputs}["SiteBucketName"]
        # Versions count the uploads: an unchanged file must not gain one.
        self.client("s3").put_bucket_versioning(
            Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}
        )

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
        return self.client("secretsmanager").get_secret_value(SecretId=self.secret_arn)[
            "SecretString"
        ]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str) -> FakeAws:
    """A moto with nothing in it."""
    fake = FakeAws(moto_url)
    fake.reset()
    return fake


@pytest.fixture
def deployed(aws: FakeAws) -> FakeAws:
    """A moto holding the stack (as `sam deploy` would leave it) with one stale object."""
    aws.create_stack()
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
    """Runs scripts/deploy.py the way a user does, with `sam` replaced by a recording stub."""

    env: dict[str, str]
    sam_log: Path

    def __call__(self, *args: str, **env: str | None) -> Result:
        environment = {**self.env, **env}
        environment = {k: v for k, v in environment.items() if v is not None}
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "deploy.py"), *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def sam_calls(self) -> list[str]:
        return self.sam_log.read_text().splitlines() if self.sam_log.exists() else []


@pytest.fixture
def api_key() -> str:
    return f"daily-{secrets.token_hex(16)}"


@pytest.fixture
def deploy(tmp_path: Path, moto_url: str, api_key: str) -> Deployer:
    """deploy.py with fake credentials, AWS_ENDPOINT_URL at moto and DAILY_API_KEY set."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "sam"
    stub.write_text(SAM_STUB)
    stub.chmod(0o755)
    sam_log = tmp_path / "sam-calls.log"
    env = {
        "PATH": f"{stub_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "DAILY_API_KEY": api_key,
        "SAM_STUB_LOG": str(sam_log),
    }
    return Deployer(env, sam_log)
