"""Deploy the whole demo with one command: build, deploy the stack, publish site/, store the key.

    python scripts/deploy.py --env staging [--dry-run] [--skip-build] [--no-smoke] [--site DIR]
                             [--region R] [--parameter-overrides "Key=Value ..."]
    python scripts/deploy.py --env staging --store-key    # only store DAILY_API_KEY
    python scripts/deploy.py --env staging --smoke        # only check the live site
    python scripts/deploy.py --env staging --destroy      # empty the bucket, delete the stack

0. Check the environment name, the region (--region, AWS_REGION, AWS_DEFAULT_REGION, the
   profile's) and the stack name's length in that region, then look the stack up: a stack whose
   first deploy failed (ROLLBACK_COMPLETE) can only be deleted, so it is, before `sam deploy`.
1. `sam build` and `sam deploy --config-env ENV --region R` (ENV is an environment of
   samconfig.toml; --parameter-overrides are merged with its own), DAILY_API_KEY removed from
   their environment. The build goes to `make bootstrap`'s artifact bucket when the account has
   it (`--s3-bucket`), else to SAM's managed bucket (`--resolve-s3`).
2. Read the stack's outputs (SiteBucketName, DistributionId, DailyApiKeySecretArn, SiteUrl, ApiUrl).
3. Publish site/ (scripts/site_publish.py): changed assets, then pages, then stale files removed.
4. Invalidate the CloudFront cache when anything changed.
5. Only if DAILY_API_KEY is set: store it with Daily's domain in the stack's secret, without
   reading the secret (scripts/key_store.py; the key is never printed).
6. Smoke-test the live site (scripts/smoke.py), after the key so a first deploy's health check
   finds it.

`--dry-run` prints that plan and changes nothing, for a stack that does not exist yet too.
`--destroy` is scripts/teardown.py. boto3 honours AWS_ENDPOINT_URL and AWS_PROFILE as usual. Any
failure ends with one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from deploy_settings import (
    ARTIFACT_BUCKET,
    Environment,
    SettingsError,
    load_environment,
    merged_overrides,
)
from key_store import KeyRefused, daily_domain, put_key, secret_value
from site_publish import (
    PublishError,
    SiteFile,
    apply_sync,
    invalidate,
    local_files,
    plan_new_bucket,
    plan_sync,
)
from smoke import SmokeFailure, run_smoke
from teardown import TeardownError, delete_stack, empty_bucket, report, stack_resources

ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = ROOT / "samconfig.toml"
TEMPLATE = ROOT / "template.yaml"
SITE = ROOT / "site"

REQUIRED_OUTPUTS = ("SiteBucketName", "DistributionId", "DailyApiKeySecretArn", "SiteUrl", "ApiUrl")
DAILY_API_URL = "https://api.daily.co/v1"  # the template's default for DailyApiUrl
# Only the key step may see these; `sam` and everything else it starts never do.
SECRET_VARIABLES = ("DAILY_API_KEY",)
# A stack CloudFormation can neither update nor create again: its first create failed.
FAILED_CREATE = "ROLLBACK_COMPLETE"
NOT_YET_CREATED = "REVIEW_IN_PROGRESS"  # a change set was made for it, never executed


class DeployError(Exception):
    """A failure to report as one line, without a traceback."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment in samconfig.toml")
    parser.add_argument(
        "--region", help="AWS region (else AWS_REGION, AWS_DEFAULT_REGION, profile)"
    )
    parser.add_argument("--config-file", type=Path, default=SAMCONFIG, help="samconfig.toml")
    parser.add_argument(
        "--parameter-overrides",
        default="",
        metavar="'KEY=VALUE ...'",
        help="template parameters, merged with samconfig.toml's for the environment",
    )
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
    only.add_argument(
        "--destroy", action="store_true", help="empty the site bucket and delete the stack"
    )
    return parser.parse_args(argv)


def aws_session(region: str) -> boto3.Session:
    """A session in `region`, failing early, before a long build, without credentials."""
    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        raise NoCredentialsError
    return session


def sam_value(key: str, value: str) -> str:
    """Key=Value as SAM CLI parses it: quoted when the value holds a space or a quote."""
    if any(c.isspace() or c in "\"'" for c in value):
        value = '"' + value.replace('"', '\\"') + '"'
    return f"{key}={value}"


def artifact_bucket(session: boto3.Session, environment: Environment) -> str | None:
    """The bucket `make bootstrap` made for this environment's builds, when this account has it.

    Its deploy role may upload only there. Without it (an administrator deploying an environment
    that was never bootstrapped) sam deploy uses its own managed bucket (--resolve-s3) instead.
    """
    account = session.client("sts").get_caller_identity()["Account"]
    name = ARTIFACT_BUCKET.format(env=environment.name, account=account)
    try:
        session.client("s3").head_bucket(Bucket=name, ExpectedBucketOwner=account)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "403"):
            return None
        raise
    return name


def sam_args(
    command: str,
    args: argparse.Namespace,
    environment: Environment,
    overrides: dict | None = None,
    bucket: str | None = None,
) -> list[str]:
    """`sam <command>` for this environment, in its region; a deploy gets the merged overrides
    and its artifact bucket (the bootstrap one, else SAM's managed one)."""
    words = [command, "--config-env", environment.name, "--region", environment.region]
    if args.config_file.resolve() != SAMCONFIG:
        words += ["--config-file", str(args.config_file.resolve())]
    if command == "deploy":
        words += ["--s3-bucket", bucket] if bucket else ["--resolve-s3"]
        if overrides is not None:
            words += ["--parameter-overrides", *(sam_value(k, v) for k, v in overrides.items())]
    return words


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


def describe_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    """The stack, or None when CloudFormation has none of that name in this region."""
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if f"Stack with id {name} does not exist" in error.response.get("Error", {}).get(
            "Message", ""
        ):
            return None
        raise


def require_stack(cloudformation: Any, environment: Environment) -> dict[str, Any]:
    stack = describe_stack(cloudformation, environment.stack)
    if stack is None:
        raise DeployError(f"stack {environment.stack!r} not found in {environment.region}")
    return stack


def stack_outputs(stack: dict[str, Any], name: str) -> dict[str, str]:
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if key not in outputs]
    if missing:
        raise DeployError(
            f"stack {name!r} lacks outputs {missing}; was it deployed from this template?"
        )
    return outputs


def stack_parameter(stack: dict[str, Any], key: str, default: str) -> str:
    values = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
    return values.get(key) or default


def store_api_key(
    session: boto3.Session, stack: dict[str, Any], secret_arn: str, api_key: str, *, dry_run: bool
) -> None:
    """Store the key (with Daily's domain when Daily tells it) without reading the secret."""
    if dry_run:
        print(f"would store DAILY_API_KEY in {secret_arn}")
        return
    domain = daily_domain(stack_parameter(stack, "DailyApiUrl", DAILY_API_URL), api_key)
    if not domain:
        print("Daily did not tell the key's domain; the function will look it up itself")
    put_key(session.client("secretsmanager"), secret_arn, secret_value(api_key, domain))
    print(f"stored DAILY_API_KEY in {secret_arn}")


def smoke(outputs: dict[str, str], *, dry_run: bool) -> None:
    if dry_run:
        print(f"would smoke-test {outputs['SiteUrl']} and {outputs['ApiUrl']}")
        return
    run_smoke(outputs["SiteUrl"], outputs["ApiUrl"])


def api_key_from_environment() -> str:
    api_key = os.environ.get("DAILY_API_KEY", "").strip()
    if not api_key:
        raise DeployError("DAILY_API_KEY is not set")
    return api_key


def clear_failed_create(
    cloudformation: Any, stack: dict[str, Any] | None, name: str, *, dry_run: bool
) -> None:
    """Delete a stack left by a failed first create: CloudFormation refuses to update it."""
    if stack is None or stack["StackStatus"] != FAILED_CREATE:
        return
    verb = "would delete" if dry_run else "deleting"
    print(
        f"stack {name} is in {FAILED_CREATE} (its first deploy failed, so CloudFormation can only "
        f"delete it, and a failed create keeps no resources): {verb} it, then creating it again",
        flush=True,
    )
    if not dry_run:
        delete_stack(cloudformation, name)


def plan_new_stack(files: dict[str, SiteFile], api_key: str) -> None:
    """The dry run's rest for a stack that sam deploy would create."""
    apply_sync(None, "", plan_new_bucket(files), dry_run=True)
    print("would invalidate /* on the new distribution")
    if api_key:
        print("would store DAILY_API_KEY in the new stack's key secret")
    print("would smoke-test the new site")


def deploy(args: argparse.Namespace, environment: Environment, session: boto3.Session) -> None:
    name, region = environment.stack, environment.region
    overrides = merged_overrides(environment, args.parameter_overrides, TEMPLATE)
    files = local_files(args.site)
    cloudformation = session.client("cloudformation")
    print(f"{'Dry run: ' if args.dry_run else ''}stack {name} (env {environment.name}) in {region}")
    before = describe_stack(cloudformation, name)
    if before is None or before["StackStatus"] == NOT_YET_CREATED:
        print(f"stack {name} does not exist in {region} yet: sam deploy creates it")
    if not args.skip_build:
        run_sam(sam_args("build", args, environment), dry_run=args.dry_run)
    clear_failed_create(cloudformation, before, name, dry_run=args.dry_run)
    bucket = artifact_bucket(session, environment)
    run_sam(sam_args("deploy", args, environment, overrides, bucket), dry_run=args.dry_run)

    api_key = os.environ.get("DAILY_API_KEY", "").strip()
    if args.dry_run and (
        before is None or before["StackStatus"] in (FAILED_CREATE, NOT_YET_CREATED)
    ):
        plan_new_stack(files, api_key)
        return
    stack = require_stack(cloudformation, environment)
    outputs = stack_outputs(stack, name)
    s3 = session.client("s3")
    bucket = outputs["SiteBucketName"]
    plan = plan_sync(s3, bucket, files)
    apply_sync(s3, bucket, plan, dry_run=args.dry_run)
    if plan.changed:
        invalidate(session.client("cloudfront"), outputs["DistributionId"], dry_run=args.dry_run)
    if api_key:
        store_api_key(
            session, stack, outputs["DailyApiKeySecretArn"], api_key, dry_run=args.dry_run
        )
    if not args.no_smoke:
        smoke(outputs, dry_run=args.dry_run)
    print(f"site: {outputs['SiteUrl']}")


def destroy(args: argparse.Namespace, environment: Environment, session: boto3.Session) -> None:
    """Empty the stack's buckets, delete it, wait, and report what is left."""
    name, region = environment.stack, environment.region
    cloudformation = session.client("cloudformation")
    if describe_stack(cloudformation, name) is None:
        print(f"stack {name} does not exist in {region}: nothing to delete")
        return
    print(f"{'Dry run: ' if args.dry_run else ''}deleting stack {name} in {region}")
    resources = stack_resources(cloudformation, name)
    s3 = session.client("s3")
    for resource in resources:
        if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
            empty_bucket(s3, resource["PhysicalResourceId"], dry_run=args.dry_run)
    if args.dry_run:
        print(f"would delete stack {name} ({len(resources)} resources) and wait until it is gone")
        return
    print(f"deleting stack {name} and waiting until it is gone", flush=True)
    delete_stack(cloudformation, name)
    report(session.client, name, resources)


def run(args: argparse.Namespace) -> None:
    """What the flags ask for: the whole deploy, only the key, only the smoke test, or teardown."""
    environment = load_environment(args.env, args.config_file, args.region)
    session = aws_session(environment.region)
    if args.store_key:
        api_key = api_key_from_environment()
        stack = require_stack(session.client("cloudformation"), environment)
        outputs = stack_outputs(stack, environment.stack)
        store_api_key(
            session, stack, outputs["DailyApiKeySecretArn"], api_key, dry_run=args.dry_run
        )
    elif args.smoke:
        stack = require_stack(session.client("cloudformation"), environment)
        smoke(stack_outputs(stack, environment.stack), dry_run=args.dry_run)
    elif args.destroy:
        destroy(args, environment, session)
    else:
        deploy(args, environment, session)


def error_line(error: Exception) -> str:
    """The one line a failure prints."""
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"AWS {error.operation_name} failed: {details.get('Code')}: {details.get('Message')}"
    return " ".join(str(error).split())


def task_name(args: argparse.Namespace) -> str:
    if args.store_key:
        return "storing the key"
    if args.smoke:
        return "smoke test"
    return "teardown" if args.destroy else "deploy"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except SmokeFailure as failure:
        where = "smoke test failed" if args.smoke else "deploy failed: smoke test"
        print(f"{where}: {failure}", file=sys.stderr)
        return 1
    except (
        DeployError,
        SettingsError,
        PublishError,
        TeardownError,
        KeyRefused,
        BotoCoreError,
        ClientError,
        OSError,
    ) as error:
        print(f"{task_name(args)} failed: {error_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{task_name(args)} interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
