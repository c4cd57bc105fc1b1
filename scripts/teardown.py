"""Remove an environment: empty its site bucket, delete its stack, and say what is left.

CloudFormation cannot delete a bucket that holds anything, a version or a delete marker included,
so the bucket is emptied first. What the stack made is deleted with it unless a DeletionPolicy
keeps it (template.yaml sets none; CloudFormation deletes secrets without Secrets Manager's
recovery window). Rather than assume, each log group, secret, table and bucket the stack had is
looked up again once the stack is gone, and the report says what still exists and how to
remove it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, WaiterError
from site_publish import delete_keys

# How often to ask whether the stack is gone; CloudFront takes minutes to delete a distribution.
DELETE_POLL = {"Delay": 15, "MaxAttempts": 240}
CHECKED_TYPES = {  # what each is called, and how to remove one that is left
    "AWS::Logs::LogGroup": ("log group", "aws logs delete-log-group --log-group-name {}"),
    "AWS::SecretsManager::Secret": (
        "secret",
        "aws secretsmanager delete-secret --secret-id {} --force-delete-without-recovery "
        "(a secret of its name stops the next deploy of this stack)",
    ),
    "AWS::DynamoDB::Table": ("table", "aws dynamodb delete-table --table-name {}"),
    "AWS::S3::Bucket": ("bucket", "empty it, then aws s3api delete-bucket --bucket {}"),
}
NOT_FOUND = {"ResourceNotFoundException", "NoSuchBucket", "404"}


class TeardownError(Exception):
    """The environment could not be removed; the message says what is in the way."""


def stack_resources(cloudformation: Any, stack: str) -> list[dict[str, str]]:
    resources = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        resources += page["StackResourceSummaries"]
    return resources


def bucket_versions(s3: Any, bucket: str) -> list[dict[str, str]] | None:
    """Every object version and delete marker in `bucket`, or None when it no longer exists."""
    found = []
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                found.append({"Key": item["Key"], "VersionId": item["VersionId"]})
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return None
        raise
    return found


def empty_bucket(s3: Any, bucket: str, *, dry_run: bool) -> None:
    versions = bucket_versions(s3, bucket)
    if versions is None:
        print(f"bucket {bucket} is already gone")
        return
    verb = "would empty" if dry_run else "emptying"
    print(f"{verb} bucket {bucket}: {len(versions)} object version(s) and delete marker(s)")
    if versions and not dry_run:
        delete_keys(s3, bucket, versions)


def delete_stack(cloudformation: Any, stack: str) -> None:
    """DeleteStack, then wait until CloudFormation says the stack is gone."""
    cloudformation.delete_stack(StackName=stack)
    try:
        cloudformation.get_waiter("stack_delete_complete").wait(
            StackName=stack, WaiterConfig=DELETE_POLL
        )
    except WaiterError as error:
        stacks = (error.last_response or {}).get("Stacks") or [{}]
        status = stacks[0].get("StackStatus", "unknown")
        reason = stacks[0].get("StackStatusReason", "see the stack's events")
        raise TeardownError(f"stack {stack} was not deleted ({status}): {reason}") from None


def still_exists(client: Callable[[str], Any], kind: str, physical_id: str) -> dict[str, Any]:
    """What the service says about a resource now: {} when it is gone."""
    try:
        if kind == "AWS::Logs::LogGroup":
            groups = client("logs").describe_log_groups(logGroupNamePrefix=physical_id)
            return next((g for g in groups["logGroups"] if g["logGroupName"] == physical_id), {})
        if kind == "AWS::SecretsManager::Secret":
            return client("secretsmanager").describe_secret(SecretId=physical_id)
        if kind == "AWS::DynamoDB::Table":
            return client("dynamodb").describe_table(TableName=physical_id)["Table"]
        client("s3").head_bucket(Bucket=physical_id)
        return {"Name": physical_id}
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND:
            return {}
        raise


def leftover_lines(client: Callable[[str], Any], resources: list[dict[str, str]]) -> list[str]:
    """One line per resource of the deleted stack that still exists, and one for the rest."""
    lines, gone = [], []
    for resource in resources:
        kind, physical_id = resource["ResourceType"], resource.get("PhysicalResourceId")
        if kind not in CHECKED_TYPES or not physical_id:
            continue
        what, removal = CHECKED_TYPES[kind]
        try:
            found = still_exists(client, kind, physical_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            lines.append(f"could not check {what} {physical_id}: {code}")
            continue
        if found:
            lines.append(
                f"kept: {what} {physical_id} outlived the stack (a DeletionPolicy of Retain "
                f"keeps it). Remove it: {removal.format(physical_id)}"
            )
        else:
            gone.append(what)
    if gone:
        kinds = [what for what, _ in CHECKED_TYPES.values() if what in gone]
        counts = ", ".join(f"{gone.count(what)} {what}(s)" for what in kinds)
        at_once = " (the secrets at once, without a recovery window)" if "secret" in gone else ""
        lines.append(f"deleted with the stack: {counts}{at_once}")
    return lines


def report(client: Callable[[str], Any], stack: str, resources: list[dict[str, str]]) -> None:
    print(f"stack {stack} deleted")
    for line in leftover_lines(client, resources):
        print(line)
    print(
        "kept, not part of the stack: what make bootstrap made (stack bootstrap-daily-rooms-ENV: "
        "deploy role, permissions boundary, the artifact bucket with the builds); to remove "
        "them, empty that bucket, then delete that stack"
    )
