"""A stand-in for the `sam` executable (SAM CLI 1.170) that deploy.py starts, on PATH in tests.

It appends its argv and environment to $SAM_DOUBLE_LOG (one JSON object a line) and answers as
SAM CLI does (samcli/commands/deploy and samcli/lib/deploy/deployer.py):

- settings come from samconfig.toml in the working directory (or --config-file), section
  [ENV.deploy.parameters] then [ENV.global.parameters], under options given on the command line;
  --parameter-overrides on the command line replaces samconfig's list, it is not merged;
- the region is --region, samconfig's `region`, else botocore's own: AWS_DEFAULT_REGION or the
  profile's. Never AWS_REGION, which botocore does not read. Without one, the managed artifact
  bucket (resolve_s3) cannot be set up: "Error Setting Up Managed Stack Client: Unable to resolve
  a region. ...", exit 1;
- `sam deploy` refuses both --resolve-s3 and --s3-bucket (samconfig's or the command line's),
  and neither (the functions' code must be uploaded somewhere);
- `sam deploy` uploads the template under its MD5 (as the artifact bucket would hold it) and
  makes a change set: type CREATE when the stack is missing or in REVIEW_IN_PROGRESS, UPDATE
  otherwise (so a stack in ROLLBACK_COMPLETE gets an UPDATE, which CloudFormation refuses);
- an empty change set prints "No changes to deploy. Stack NAME is up to date" and exits 0 with
  fail_on_empty_changeset = false (an "Error: " and exit 1 otherwise);
- it waits with botocore's own waiters, so their failure texts are the real ones; after a failed
  create with on_failure = "DELETE" it deletes the stack (rollback_delete_stack) before exiting 1;
- `sam build` only records its call.

CloudFormation is whatever AWS_ENDPOINT_URL_CLOUDFORMATION points at (tests/deploy/
cloudformation_double.py). Nothing is built or uploaded for real.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

NO_REGION = (
    "Error Setting Up Managed Stack Client: Unable to resolve a region. Please provide a region "
    "via the --region parameter or by the AWS_DEFAULT_REGION environment variable."
)
BOTH_BUCKETS = (
    "Cannot use both --resolve-s3 and --s3-bucket parameters in non-guided deployments. Please "
    "use only one or use the --guided option for a guided deployment."
)
NO_BUCKET = (
    "S3 Bucket not specified, use --s3-bucket to specify a bucket name, or use --resolve-s3 to "
    "create a managed default bucket, or run sam deploy --guided"
)
NO_CHANGES = "No changes to deploy. Stack {stack} is up to date"
EMPTY_REASONS = (
    "The submitted information didn't contain changes.",
    "No updates are to be performed",
)
FLAGS = {  # option -> samconfig key, for options that take no value
    "--no-fail-on-empty-changeset": ("fail_on_empty_changeset", False),
    "--fail-on-empty-changeset": ("fail_on_empty_changeset", True),
    "--no-confirm-changeset": ("confirm_changeset", False),
    "--confirm-changeset": ("confirm_changeset", True),
    "--resolve-s3": ("resolve_s3", True),
    "--cached": ("cached", True),
    "--parallel": ("parallel", True),
}
VALUED = {
    "--config-env",
    "--config-file",
    "--region",
    "--profile",
    "--stack-name",
    "--on-failure",
    "--capabilities",
    "--s3-prefix",
    "--s3-bucket",
    "--tags",
}
WAIT = {"Delay": 1, "MaxAttempts": 30}  # CloudFormation's double finishes before answering


class Usage(Exception):
    """A command line SAM CLI (click) refuses with exit code 2."""


class Failure(Exception):
    """An error SAM CLI prints as `Error: ...` with exit code 1."""


def record(argv: list[str]) -> None:
    log = os.environ.get("SAM_DOUBLE_LOG")
    if log:
        with open(log, "a") as out:
            out.write(json.dumps({"argv": argv, "env": dict(os.environ)}) + "\n")


def parse(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """The command and its options, by samconfig key (--parameter-overrides takes many values)."""
    if not argv or argv[0] not in ("build", "deploy"):
        raise Usage(f"No such command '{argv[0] if argv else ''}'.")
    command, options, words = argv[0], {}, argv[1:]
    index = 0
    while index < len(words):
        word = words[index]
        if word in FLAGS:
            key, value = FLAGS[word]
            options[key] = value
            index += 1
        elif word in VALUED:
            if index + 1 >= len(words):
                raise Usage(f"Option '{word}' requires an argument.")
            options[word[2:].replace("-", "_")] = words[index + 1]
            index += 2
        elif word == "--parameter-overrides":
            values = []
            index += 1
            while index < len(words) and not words[index].startswith("--"):
                values.append(words[index])
                index += 1
            options["parameter_overrides"] = values
        else:
            raise Usage(f"No such option: {word}")
    return command, options


def settings(options: dict[str, Any], command: str) -> dict[str, Any]:
    """samconfig.toml's settings for the environment, under the command line's."""
    path = Path(options.get("config_file") or "samconfig.toml")
    env = options.get("config_env", "default")
    config = tomllib.loads(path.read_text()) if path.exists() else {}
    section = config.get(env, {})
    merged = {
        **section.get("global", {}).get("parameters", {}),
        **section.get(command, {}).get("parameters", {}),
    }
    return {**merged, **options}


def overrides(value: Any) -> dict[str, str]:
    """Key=Value words (a string, or a list of them) as SAM CLI reads them."""
    items = value if isinstance(value, list) else [value or ""]
    found = {}
    for item in items:
        for word in shlex.split(item):
            key, _, text = word.partition("=")
            found[key] = text
    return found


def resolve_region(config: dict[str, Any]) -> str:
    region = config.get("region") or boto3.Session(profile_name=config.get("profile")).region_name
    if not region:
        raise Failure(NO_REGION)
    return region


def has_stack(cloudformation: Any, stack: str) -> bool:
    try:
        found = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if f"Stack with id {stack} does not exist" in str(error):
            return False
        raise Failure(f"Failed to create/update the stack: {stack}, {error}") from None
    return bool(found) and found[0]["StackStatus"] != "REVIEW_IN_PROGRESS"


def template_url(region: str, bucket: str, prefix: str) -> str:
    """Where the artifact bucket holds the packaged template: named by its MD5, as SAM does."""
    template = Path(".aws-sam/build/template.yaml")
    if not template.exists():
        template = Path("template.yaml")
    md5 = hashlib.md5(template.read_bytes(), usedforsecurity=False).hexdigest()
    key = f"{prefix}/{md5}.template" if prefix else f"{md5}.template"
    return f"https://s3.{region}.amazonaws.com/{bucket}/{key}"


def rollback_delete(cloudformation: Any, stack: str) -> None:
    """SAM CLI's on_failure = DELETE: a stack whose create failed is deleted."""
    try:
        status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    except ClientError:
        print(f"Stack {stack} is not found, skipping")
        return
    if status in ("CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        print(f"Stack {stack} failed to create/update correctly, deleting stack")
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
        print(f"\nStack {stack} has been deleted")
    else:
        print(f"Stack {stack} has rolled back successfully")


def deploy(config: dict[str, Any]) -> None:
    stack = config.get("stack_name")
    if not stack:
        raise Failure("Missing option '--stack-name', 'sam deploy --guided' can be used ...")
    if config.get("resolve_s3") and config.get("s3_bucket"):
        raise Failure(BOTH_BUCKETS)
    region = resolve_region(config)
    if not config.get("resolve_s3") and not config.get("s3_bucket"):
        raise Failure(NO_BUCKET)
    bucket = config.get("s3_bucket") or "aws-sam-cli-managed-default-samclisourcebucket-double"
    on_failure = config.get("on_failure", "ROLLBACK")
    print(f"\n\tDeploying with following values\n\t{'=' * 31}\n\tStack name : {stack}")
    print(f"\tRegion     : {region}\n\tOn failure : {on_failure}\n")
    cloudformation = boto3.client("cloudformation", region_name=region)
    kind = "UPDATE" if has_stack(cloudformation, stack) else "CREATE"
    parameters = [
        {"ParameterKey": key, "ParameterValue": value}
        for key, value in overrides(config.get("parameter_overrides")).items()
    ]
    tags = [{"Key": k, "Value": v} for k, v in overrides(config.get("tags")).items()]
    capabilities = config.get("capabilities", "CAPABILITY_IAM")
    try:
        change_set = cloudformation.create_change_set(
            ChangeSetName=f"samcli-deploy{int(time.time())}",
            StackName=stack,
            TemplateURL=template_url(region, bucket, config.get("s3_prefix", "")),
            ChangeSetType=kind,
            Parameters=parameters,
            Capabilities=capabilities.split() if isinstance(capabilities, str) else capabilities,
            Tags=tags,
            Description="Created by SAM CLI",
        )
    except ClientError as error:
        raise Failure(f"Failed to create changeset for the stack: {stack}, {error}") from None
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set["Id"], StackName=stack, WaiterConfig=WAIT
        )
    except WaiterError as error:
        reason = (error.last_response or {}).get("StatusReason", "")
        if any(empty in reason for empty in EMPTY_REASONS):
            if config.get("fail_on_empty_changeset", True):
                raise Failure(NO_CHANGES.format(stack=stack)) from None
            print(NO_CHANGES.format(stack=stack))
            return
        raise Failure(
            f"Failed to create changeset for the stack: {stack}, ex: {error} Status: "
            f"{(error.last_response or {}).get('Status')}. Reason: {reason}"
        ) from None
    print(f"\nChangeset created successfully. {change_set['Id']}\n")
    if config.get("confirm_changeset"):
        answer = input("Deploy this changeset? [y/N]: ")
        if answer.strip().lower() != "y":
            return
    cloudformation.execute_change_set(
        ChangeSetName=change_set["Id"], StackName=stack, DisableRollback=False
    )
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    try:
        cloudformation.get_waiter(waiter).wait(StackName=stack, WaiterConfig=WAIT)
    except WaiterError as error:
        if on_failure == "DELETE":
            rollback_delete(cloudformation, stack)
        raise Failure(f"Failed to create/update the stack: {stack}, {error}") from None
    print(f"\nSuccessfully created/updated stack - {stack} in {region}\n")


def main(argv: list[str]) -> int:
    record(argv)
    try:
        command, options = parse(argv)
        config = settings(options, command)
        if command == "build":
            print("\nBuild Succeeded")
            return 0
        deploy(config)
    except Usage as usage:
        print(
            f"Usage: sam [OPTIONS] COMMAND [ARGS]...\nTry 'sam -h' for help.\n\nError: {usage}",
            file=sys.stderr,
        )
        return 2
    except Failure as failure:
        print(f"Error: {failure}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
