"""Create or update one environment's bootstrap stack (bootstrap/template.yaml): the permissions
boundary, the deploy role and the artifact bucket. Run it once per environment with
administrator credentials, and again to change who may assume the role.

    python scripts/bootstrap.py --env staging [--github owner/repo | --no-github] [--region R]

The stack is `bootstrap-daily-rooms-ENV`; the role governs samconfig.toml's stack_name of ENV
(daily-rooms-ENV when samconfig.toml has no such environment). With `--github` only that
repository's GitHub environment ENV may assume the role (OIDC), and the account's OIDC provider
is created when it does not exist yet; without it, the role trusts this account (a profile).
Leaving both out keeps what the stack has. The region is `--region`, else AWS_REGION, else
AWS_DEFAULT_REGION, else the profile's. Any failure ends with one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, WaiterError

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "bootstrap" / "template.yaml"
SAMCONFIG = ROOT / "samconfig.toml"
ENVIRONMENT = re.compile(r"[a-z][a-z0-9]{0,15}")
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?")
OIDC_HOST = "token.actions.githubusercontent.com"
WAIT = {"Delay": 5, "MaxAttempts": 360}  # up to 30 minutes; IAM and S3 take about one


class BootstrapError(Exception):
    """A failure to report as one line, without a traceback."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="environment (samconfig.toml), e.g. staging")
    trust = parser.add_mutually_exclusive_group()
    trust.add_argument(
        "--github", metavar="OWNER/REPO", help="trust this repository's GitHub environment ENV"
    )
    trust.add_argument("--no-github", action="store_true", help="trust this account instead")
    parser.add_argument(
        "--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)"
    )
    args = parser.parse_args(argv)
    if not ENVIRONMENT.fullmatch(args.env):
        parser.error("--env: a lowercase letter, then up to 15 lowercase letters or digits")
    if args.github is not None and not REPOSITORY.fullmatch(args.github):
        parser.error("--github: OWNER/REPO (or OWNER@ID/REPO@ID, as the token's sub names it)")
    return args


def resolve_region(explicit: str | None) -> str:
    """--region, AWS_REGION, AWS_DEFAULT_REGION, then the profile's: botocore alone reads only
    the last two."""
    region = explicit or os.environ.get("AWS_REGION") or boto3.Session().region_name
    if not region:
        raise BootstrapError(
            "no AWS region: pass --region or set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's)"
        )
    return region


def app_stack_name(env: str, samconfig: Path = SAMCONFIG) -> str:
    """samconfig.toml's stack_name for `env`, so the role governs what `make deploy` deploys."""
    config = tomllib.loads(samconfig.read_text())
    parameters = config.get(env, {}).get("global", {}).get("parameters", {})
    return parameters.get("stack_name", f"daily-rooms-{env}")


def stack_of(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in error.response.get("Error", {}).get("Message", ""):
            return None
        raise


def oidc_provider_exists(session: boto3.Session, account: str, region: str) -> bool:
    partition = session.get_partition_for_region(region)
    arn = f"arn:{partition}:iam::{account}:oidc-provider/{OIDC_HOST}"
    try:
        session.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return False
        raise
    return True


def parameters_for(
    args: argparse.Namespace, current: dict[str, str], provider_exists: Callable[[], bool]
) -> dict[str, str]:
    """The stack's parameters: the trust asked for, else the one the stack has; the OIDC
    provider created here when GitHub is trusted and no stack or person made it yet."""
    repository = "" if args.no_github else args.github
    if repository is None:
        repository = current.get("GitHubRepository", "")
    creates_provider = current.get("CreateGitHubOidcProvider") == "true" or bool(
        repository and not provider_exists()
    )
    return {
        "Environment": args.env,
        "AppStackName": app_stack_name(args.env),
        "GitHubRepository": repository,
        "CreateGitHubOidcProvider": "true" if creates_provider else "false",
    }


def failure_reason(cloudformation: Any, stack_id: str) -> str:
    """The first resource failure of the stack's last operation, as CloudFormation tells it."""
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    if not failed:
        return "see the stack's events"
    first = failed[-1]  # events come newest first
    return f"{first['LogicalResourceId']}: {first.get('ResourceStatusReason', 'failed')}"


def wait(cloudformation: Any, waiter: str, stack_id: str) -> None:
    try:
        cloudformation.get_waiter(waiter).wait(StackName=stack_id, WaiterConfig=WAIT)
    except WaiterError:
        reason = failure_reason(cloudformation, stack_id)
        raise BootstrapError(f"stack {stack_id.split('/')[1]} did not complete: {reason}") from None


def deploy_stack(cloudformation: Any, name: str, parameters: dict[str, str], env: str) -> str:
    """Create the stack, or update it; the answer says which (or that nothing changed)."""
    values = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    request = {
        "StackName": name,
        "TemplateBody": TEMPLATE.read_text(),
        "Parameters": values,
        "Capabilities": ["CAPABILITY_NAMED_IAM"],
        "Tags": [{"Key": "project", "Value": "daily-rooms"}, {"Key": "environment", "Value": env}],
    }
    stack = stack_of(cloudformation, name)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        print(f"stack {name} failed to create before and can only be deleted: deleting it")
        cloudformation.delete_stack(StackName=stack["StackId"])
        wait(cloudformation, "stack_delete_complete", stack["StackId"])
        stack = None
    if stack is None:
        print(f"creating stack {name}", flush=True)
        created = cloudformation.create_stack(**request, OnFailure="DELETE")
        wait(cloudformation, "stack_create_complete", created["StackId"])
        return "created"
    try:
        print(f"updating stack {name}", flush=True)
        cloudformation.update_stack(**request)
    except ClientError as error:
        if "No updates are to be performed" in error.response.get("Error", {}).get("Message", ""):
            return "unchanged"
        raise
    wait(cloudformation, "stack_update_complete", stack["StackId"])
    return "updated"


def next_steps(env: str, region: str, outputs: dict[str, str], github: str) -> list[str]:
    role = outputs["DeployRoleArn"]
    lines = [
        f"deploy role:        {role}",
        f"artifact bucket:    {outputs['ArtifactBucketName']} (sam deploy --s3-bucket)",
        f"boundary:           {outputs['PermissionsBoundaryName']} (samconfig.toml "
        "PermissionsBoundaryName)",
        f"governs the stack:  {outputs['AppStackName']}",
        f"assumable by:       {outputs['TrustedBy']}",
        "",
    ]
    if github:
        return [
            *lines,
            f"In GitHub, Settings > Environments > {env} (the environment, not the repository):",
            f"  variable AWS_DEPLOY_ROLE_ARN = {role}",
            f"  variable AWS_REGION = {region}",
            "  secret DAILY_API_KEY = your Daily API key",
        ]
    source = os.environ.get("AWS_PROFILE", "default")
    return [
        *lines,
        "Add to ~/.aws/config:",
        f"  [profile daily-rooms-{env}]",
        f"  role_arn = {role}",
        f"  source_profile = {source}",
        f"  region = {region}",
        f"then: AWS_PROFILE=daily-rooms-{env} make deploy ENV={env}",
    ]


def bootstrap(args: argparse.Namespace) -> None:
    region = resolve_region(args.region)
    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        raise NoCredentialsError
    account = session.client("sts").get_caller_identity()["Account"]
    cloudformation = session.client("cloudformation")
    name = f"bootstrap-daily-rooms-{args.env}"
    stack = stack_of(cloudformation, name)
    current = {p["ParameterKey"]: p["ParameterValue"] for p in (stack or {}).get("Parameters", [])}
    parameters = parameters_for(
        args, current, lambda: oidc_provider_exists(session, account, region)
    )
    print(f"environment {args.env} in account {account}, {region}")
    if (
        parameters["CreateGitHubOidcProvider"] == "true"
        and current.get("CreateGitHubOidcProvider") != "true"
    ):
        print(f"the account has no {OIDC_HOST} provider yet: this stack creates it")
    result = deploy_stack(cloudformation, name, parameters, args.env)
    print(f"stack {name} {result}")
    deployed = stack_of(cloudformation, name) or {}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed.get("Outputs", [])}
    for line in next_steps(args.env, region, outputs, parameters["GitHubRepository"]):
        print(line)


def error_line(error: Exception) -> str:
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE (administrator) or AWS_ACCESS_KEY_ID"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"AWS {error.operation_name} failed: {details.get('Code')}: {details.get('Message')}"
    return " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        bootstrap(args)
    except (BootstrapError, BotoCoreError, ClientError, OSError, tomllib.TOMLDecodeError) as error:
        print(f"bootstrap failed: {error_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bootstrap interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
