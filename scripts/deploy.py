"""Deploy the whole demo with one command: build, deploy the stack, publish site/, store the key.

    python scripts/deploy.py --env staging [--dry-run] [--skip-build] [--site DIR]
    python scripts/deploy.py --env staging --store-key    # only store DAILY_API_KEY
    python scripts/deploy.py --env staging --smoke        # only check the live site

1. `sam build` and `sam deploy --config-env ENV` (ENV is an environment of samconfig.toml), with
   DAILY_API_KEY removed from their environment.
2. Read the stack's outputs (SiteBucketName, DistributionId, DailyApiKeySecretArn, SiteUrl, ApiUrl).
3. Sync site/ to the bucket: upload new or changed files with their Content-Type and
   Cache-Control, skip unchanged ones (MD5 = ETag), delete objects no longer in site/.
4. Invalidate the CloudFront cache when anything changed.
5. Only if DAILY_API_KEY is set: store it with Daily's domain in the stack's secret, without
   reading the secret (scripts/key_store.py; the key is never printed).
6. Smoke-test the live site (scripts/smoke.py).

`--dry-run` prints that plan and changes nothing. boto3 honours AWS_ENDPOINT_URL, AWS_PROFILE and
AWS_REGION as usual. Any failure ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import mimetypes
import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from key_store import KeyRefused, daily_domain, put_key, secret_value
from smoke import SmokeFailure, run_smoke

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = ROOT / "samconfig.toml"
SITE = ROOT / "site"

# index.html names the other files, so it must always be revalidated; the others are not
# content-hashed, so browsers may keep them only briefly (an invalidation clears CloudFront).
HTML_CACHE_CONTROL = "no-cache"
ASSET_CACHE_CONTROL = "public, max-age=300"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
REQUIRED_OUTPUTS = ("SiteBucketName", "DistributionId", "DailyApiKeySecretArn", "SiteUrl", "ApiUrl")
DAILY_API_URL = "https://api.daily.co/v1"  # the template's default for DailyApiUrl
# Only the key step may see these; `sam` and everything else it starts never do.
SECRET_VARIABLES = ("DAILY_API_KEY",)


class DeployError(Exception):
    """A failure to report as one line, without a traceback."""


@dataclass(frozen=True)
class SiteFile:
    key: str
    path: Path
    md5: str
    content_type: str
    cache_control: str


@dataclass
class SyncPlan:
    uploads: list[tuple[SiteFile, str]] = field(default_factory=list)  # (file, "new"/"changed"...)
    deletes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.uploads or self.deletes)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment in samconfig.toml")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--skip-build", action="store_true", help="deploy the last sam build")
    parser.add_argument("--site", type=Path, default=SITE, help="folder to publish (site/)")
    parser.add_argument(
        "--no-smoke", action="store_true", help="skip the smoke test (CI runs it after --store-key)"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--store-key", action="store_true", help="only store DAILY_API_KEY in the stack's secret"
    )
    only.add_argument("--smoke", action="store_true", help="only smoke-test the live site")
    return parser.parse_args(argv)


def stack_name(env: str, samconfig: Path = SAMCONFIG) -> str:
    """The stack_name samconfig.toml gives environment `env`."""
    config = tomllib.loads(samconfig.read_text())
    environments = sorted(k for k, v in config.items() if isinstance(v, dict))
    if env not in environments:
        raise DeployError(f"unknown environment {env!r}; samconfig.toml has {environments}")
    for command in ("deploy", "global"):
        name = config[env].get(command, {}).get("parameters", {}).get("stack_name")
        if name:
            return name
    raise DeployError(f"samconfig.toml gives environment {env!r} no stack_name")


def check_aws_session() -> str:
    """Fail early, before a long build, when there are no credentials or no region."""
    session = boto3.Session()
    if session.get_credentials() is None:
        raise NoCredentialsError
    if not session.region_name:
        raise NoRegionError
    return session.region_name


def run_sam(args: list[str], *, dry_run: bool) -> None:
    command = ["sam", *args]
    if dry_run:
        print(f"would run: {' '.join(command)}")
        return
    print(f"running: {' '.join(command)}", flush=True)
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
    env["SAM_CLI_TELEMETRY"] = os.environ.get("SAM_CLI_TELEMETRY", "0")
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    except FileNotFoundError:
        raise DeployError("sam not found on PATH; install aws-sam-cli (make install)") from None
    if result.returncode != 0:
        raise DeployError(
            f"sam {args[0]} failed (exit code {result.returncode}); see its output above"
        )


def describe_stack(cloudformation: Any, name: str) -> dict[str, Any]:
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            region = cloudformation.meta.region_name
            raise DeployError(f"stack {name!r} not found in {region}") from None
        raise


def stack_outputs(stack: dict[str, Any], name: str) -> dict[str, str]:
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise DeployError(
            f"stack {name!r} lacks outputs {missing}; was it deployed from this template?"
        )
    return outputs


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def local_files(site: Path) -> dict[str, SiteFile]:
    """Every file under `site` (dot-files left out), by object key."""
    if not site.is_dir():
        raise DeployError(f"{site} is not a folder")
    files = {}
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = relative.as_posix()
        cache = HTML_CACHE_CONTROL if path.suffix.lower() == ".html" else ASSET_CACHE_CONTROL
        md5 = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        files[key] = SiteFile(key, path, md5, content_type(path), cache)
    if not files:
        raise DeployError(f"{site} has no files; refusing to empty the bucket")
    return files


def remote_etags(s3: Any, bucket: str) -> dict[str, str]:
    etags = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def plan_sync(s3: Any, bucket: str, files: dict[str, SiteFile]) -> SyncPlan:
    """Compare site/ with the bucket: content by MD5/ETag, then the two headers."""
    remote = remote_etags(s3, bucket)
    plan = SyncPlan(deletes=sorted(set(remote) - set(files)))
    for key, file in files.items():
        if key not in remote:
            plan.uploads.append((file, "new"))
        elif remote[key] != file.md5:
            plan.uploads.append((file, "changed"))
        else:
            head = s3.head_object(Bucket=bucket, Key=key)
            if (head.get("ContentType"), head.get("CacheControl")) != (
                file.content_type,
                file.cache_control,
            ):
                plan.uploads.append((file, "headers changed"))
            else:
                plan.unchanged.append(key)
    return plan


def apply_sync(s3: Any, bucket: str, plan: SyncPlan, *, dry_run: bool) -> None:
    verb = "would " if dry_run else ""
    for file, reason in plan.uploads:
        print(f"{verb}upload {file.key} ({reason}; {file.content_type}; {file.cache_control})")
        if not dry_run:
            body = file.path.read_bytes()
            s3.put_object(
                Bucket=bucket,
                Key=file.key,
                Body=body,
                ContentType=file.content_type,
                CacheControl=file.cache_control,
                ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode(),
            )
    for key in plan.deletes:
        print(f"{verb}delete {key} (no longer in site/)")
    if plan.deletes and not dry_run:
        for start in range(0, len(plan.deletes), 1000):
            batch = [{"Key": key} for key in plan.deletes[start : start + 1000]]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    print(f"{len(plan.unchanged)} file(s) unchanged")


def invalidate(cloudfront: Any, distribution_id: str, *, dry_run: bool) -> None:
    if dry_run:
        print(f"would invalidate /* on distribution {distribution_id}")
        return
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"deploy-{time.time_ns()}",
        },
    )
    print(f"invalidation {answer['Invalidation']['Id']} of /* on {distribution_id}")


def stack_parameter(stack: dict[str, Any], key: str, default: str) -> str:
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return values.get(key) or default


def store_api_key(stack: dict[str, Any], secret_arn: str, api_key: str, *, dry_run: bool) -> None:
    """Store the key (with Daily's domain when Daily tells it) without reading the secret."""
    if dry_run:
        print(f"would store DAILY_API_KEY in {secret_arn}")
        return
    domain = daily_domain(stack_parameter(stack, "DailyApiUrl", DAILY_API_URL), api_key)
    if not domain:
        print("Daily did not tell the key's domain; the function will look it up itself")
    put_key(boto3.client("secretsmanager"), secret_arn, secret_value(api_key, domain))
    print(f"stored DAILY_API_KEY in {secret_arn}")


def smoke(outputs: dict[str, str], *, dry_run: bool) -> None:
    if dry_run:
        print(f"would smoke-test {outputs['SiteUrl']} and {outputs['ApiUrl']}")
        return
    run_smoke(outputs["SiteUrl"], outputs["ApiUrl"])


def deployed_stack(env: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The stack of `env` and its outputs, failing early without credentials or a region."""
    name = stack_name(env)
    check_aws_session()
    stack = describe_stack(boto3.client("cloudformation"), name)
    return stack, stack_outputs(stack, name)


def api_key_from_environment() -> str:
    api_key = os.environ.get("DAILY_API_KEY", "").strip()
    if not api_key:
        raise DeployError("DAILY_API_KEY is not set")
    return api_key


def deploy(args: argparse.Namespace) -> None:
    name = stack_name(args.env)
    region = check_aws_session()
    files = local_files(args.site)
    print(f"{'Dry run: ' if args.dry_run else ''}stack {name} (env {args.env}) in {region}")
    if not args.skip_build:
        run_sam(["build", "--config-env", args.env], dry_run=args.dry_run)
    run_sam(["deploy", "--config-env", args.env], dry_run=args.dry_run)

    stack = describe_stack(boto3.client("cloudformation"), name)
    outputs = stack_outputs(stack, name)
    s3 = boto3.client("s3")
    bucket = outputs["SiteBucketName"]
    plan = plan_sync(s3, bucket, files)
    apply_sync(s3, bucket, plan, dry_run=args.dry_run)
    if plan.changed:
        invalidate(boto3.client("cloudfront"), outputs["DistributionId"], dry_run=args.dry_run)

    api_key = os.environ.get("DAILY_API_KEY", "").strip()
    if api_key:
        store_api_key(stack, outputs["DailyApiKeySecretArn"], api_key, dry_run=args.dry_run)
    if not args.no_smoke:
        smoke(outputs, dry_run=args.dry_run)
    print(f"site: {outputs['SiteUrl']}")


def error_line(error: Exception) -> str:
    """The one line a failure prints."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region)"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"AWS {error.operation_name} failed: {details.get('Code')}: {details.get('Message')}"
    return " ".join(str(error).split())


def run(args: argparse.Namespace) -> None:
    """What the flags ask for: the whole deploy, or only the key, or only the smoke test."""
    if args.store_key:
        api_key = api_key_from_environment()
        stack, outputs = deployed_stack(args.env)
        store_api_key(stack, outputs["DailyApiKeySecretArn"], api_key, dry_run=args.dry_run)
    elif args.smoke:
        smoke(deployed_stack(args.env)[1], dry_run=args.dry_run)
    else:
        deploy(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    task = "storing the key" if args.store_key else "smoke test" if args.smoke else "deploy"
    try:
        run(args)
    except SmokeFailure as failure:
        where = "smoke test failed" if args.smoke else "deploy failed: smoke test"
        print(f"{where}: {failure}", file=sys.stderr)
        return 1
    except (
        DeployError,
        KeyRefused,
        BotoCoreError,
        ClientError,
        OSError,
        tomllib.TOMLDecodeError,
    ) as error:
        print(f"{task} failed: {error_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("deploy interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
