"""What a stack of template.yaml holds, made in moto: the resources deploy.py and its tests use.

Created in template order, undone in reverse when one fails, as CloudFormation's handlers would:

- the site bucket (`<stack>-sitebucket-<random>`), the distribution, the secrets (named by the
  template's `Name`, else `<LogicalId>-<random>`; the key secret holds `{"apiKey": ""}`), the
  log groups and the state table;
- every name the template builds from the stack's name is checked against its service's limit
  (64 characters for the origin access control and the functions) with CloudFormation's
  message, so a stack name that is too long fails the create;
- deleting leaves what has `DeletionPolicy: Retain`, refuses a bucket that still holds any
  version or delete marker ("The bucket you tried to delete is not empty"), and deletes secrets
  without a recovery window, as CloudFormation's handler for AWS::SecretsManager::Secret does
  (aws-cloudformation/cloudformation-coverage-roadmap issues 838 and 1999 ask for a window).

Neither CloudFront nor API Gateway serve anything here: SiteUrl and ApiUrl are the local
stand-ins the tests give, and DailyApiUrl's default is the Daily emulator's URL.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from tests.deploy.cloudformation_double import ResourceFailure, Stack
from tests.template.conftest import load_template

# Every name template.yaml builds from the stack's name, by (resource type, property path), with
# its service's length limit.
NAME_LIMITS = {
    ("AWS::CloudFront::OriginAccessControl", ("OriginAccessControlConfig", "Name")): 64,
    ("AWS::CloudFront::OriginRequestPolicy", ("OriginRequestPolicyConfig", "Name")): 128,
    ("AWS::CloudFront::ResponseHeadersPolicy", ("ResponseHeadersPolicyConfig", "Name")): 128,
    ("AWS::Serverless::Function", ("FunctionName",)): 64,
    ("AWS::Serverless::LayerVersion", ("LayerName",)): 140,
    ("AWS::WAFv2::WebACL", ("Name",)): 128,
    ("AWS::WAFv2::WebACL", ("VisibilityConfig", "MetricName")): 128,
    ("AWS::Logs::LogGroup", ("LogGroupName",)): 512,
    ("AWS::SecretsManager::Secret", ("Name",)): 512,
    ("AWS::SNS::Topic", ("TopicName",)): 256,
    ("AWS::CloudWatch::Alarm", ("AlarmName",)): 255,
    ("AWS::CloudWatch::Dashboard", ("DashboardName",)): 255,
}
SCHEMA_MESSAGE = (
    "Properties validation failed for resource {logical_id} with message: #/{path}: "
    "expected maxLength: {limit}, actual: {length}"
)
LAMBDA_MESSAGE = (  # Lambda checks FunctionName itself
    "Resource handler returned message: \"1 validation error detected: Value '{value}' at "
    "'functionName' failed to satisfy constraint: Member must have length less than or equal "
    'to 64"'
)


def stack_names(resource: dict[str, Any]) -> list[tuple[tuple[str, ...], Any]]:
    """(property path, value) of each `...Name` property the stack's name goes into."""
    found = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict) and isinstance(node.get("Fn::Sub"), str):
            if "${AWS::StackName}" in node["Fn::Sub"] and path and path[-1].endswith("Name"):
                found.append((path, node))
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(resource.get("Properties", {}), ())
    return found


def random_suffix(length: int = 12) -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(length))


def resolve_sub(value: Any, stack: Stack) -> str | None:
    """A `!Sub` of the stack's name and region (None for anything else)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return (
            value["Fn::Sub"]
            .replace("${AWS::StackName}", stack.name)
            .replace("${AWS::Region}", stack.region)
        )
    return None


@dataclass
class TemplateResources:
    """The resources of template.yaml in moto at `moto_url` (cloudformation_double.Resources)."""

    moto_url: str
    site_url: str = "https://d111111abcdef8.cloudfront.net"
    api_url: str = "https://abcdef1234.execute-api.us-east-1.amazonaws.com"
    daily_api_url: str = "https://api.daily.co/v1"
    # logical id -> CloudFormation's reason: that resource fails the next create or update
    failures: dict[str, str] = field(default_factory=dict)
    template: dict[str, Any] = field(default_factory=load_template)

    def client(self, service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def defaults(self) -> dict[str, str]:
        values = {
            name: str(spec["Default"])
            for name, spec in self.template["Parameters"].items()
            if "Default" in spec
        }
        return {**values, "DailyApiUrl": self.daily_api_url}

    # ---- cloudformation_double.Resources ----

    def create(self, stack: Stack) -> None:
        stack.parameters = {**self.defaults(), **stack.parameters}
        failures, self.failures = self.failures, {}
        made: list[dict[str, str]] = []
        try:
            for logical_id, resource in self.template["Resources"].items():
                if logical_id in failures:
                    raise ResourceFailure(logical_id, failures[logical_id])
                self.check_name(stack, logical_id, resource)
                physical_id = self.make(stack, logical_id, resource)
                if physical_id:
                    made.append(
                        {
                            "LogicalResourceId": logical_id,
                            "PhysicalResourceId": physical_id,
                            "ResourceType": resource["Type"],
                        }
                    )
        except ResourceFailure:
            stack.resources = made
            self.delete(stack)
            raise
        stack.resources = made
        self.update(stack)  # the outputs

    def update(self, stack: Stack) -> None:
        failures, self.failures = self.failures, {}
        for logical_id, reason in failures.items():
            raise ResourceFailure(logical_id, reason)
        by_id = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in stack.resources}
        distribution = by_id["Distribution"]
        stack.outputs = {
            "SiteUrl": self.site_url,
            "ApiUrl": self.api_url,
            "SiteBucketName": by_id["SiteBucket"],
            "DistributionId": distribution,
            "DailyApiKeySecretArn": by_id["DailyApiKeySecret"],
            "OriginVerifySecretArn": by_id["OriginVerifySecret"],
            "StateTableName": by_id["StateTable"],
        }

    def delete(self, stack: Stack) -> None:
        left = []
        failure = None
        for resource in reversed(stack.resources):
            policy = self.template["Resources"][resource["LogicalResourceId"]].get("DeletionPolicy")
            if policy == "Retain":  # CloudFormation leaves it, and forgets it
                continue
            if failure is not None:
                left.insert(0, resource)
                continue
            try:
                self.remove(stack.region, resource)
            except ResourceFailure as refused:
                failure = refused
                left.insert(0, resource)
        stack.resources = left
        if failure is not None:
            raise failure

    # ---- one resource ----

    def check_name(self, stack: Stack, logical_id: str, resource: dict[str, Any]) -> None:
        for path, value in stack_names(resource):
            limit = NAME_LIMITS[(resource["Type"], path)]
            name = resolve_sub(value, stack) or ""
            if len(name) > limit:
                message = LAMBDA_MESSAGE if path == ("FunctionName",) else SCHEMA_MESSAGE
                raise ResourceFailure(
                    logical_id,
                    message.format(
                        logical_id=logical_id,
                        path="/".join(path),
                        limit=limit,
                        length=len(name),
                        value=name,
                    ),
                )

    def make(self, stack: Stack, logical_id: str, resource: dict[str, Any]) -> str | None:
        kind, properties = resource["Type"], resource.get("Properties", {})
        region = stack.region
        if kind == "AWS::S3::Bucket":
            name = f"{stack.name}-{logical_id}-{random_suffix()}".lower()[:63]
            location = {} if region == "us-east-1" else {"LocationConstraint": region}
            create = {"CreateBucketConfiguration": location} if location else {}
            self.client("s3", region).create_bucket(Bucket=name, **create)
            return name
        if kind == "AWS::CloudFront::Distribution":
            return self.client("cloudfront", region).create_distribution(
                DistributionConfig={
                    "CallerReference": random_suffix(),
                    "Comment": f"{stack.name} demo page and /api",
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
            )["Distribution"]["Id"]
        if kind == "AWS::SecretsManager::Secret":
            name = resolve_sub(properties.get("Name"), stack) or f"{logical_id}-{random_suffix()}"
            value = properties.get("SecretString") or json.dumps({"value": random_suffix(48)})
            return self.client("secretsmanager", region).create_secret(
                Name=name, SecretString=value
            )["ARN"]
        if kind == "AWS::Logs::LogGroup":
            name = resolve_sub(properties["LogGroupName"], stack)
            self.client("logs", region).create_log_group(logGroupName=name)
            return name
        if kind == "AWS::DynamoDB::Table":
            name = f"{stack.name}-{logical_id}-{random_suffix()}"
            self.client("dynamodb", region).create_table(
                TableName=name,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=properties["AttributeDefinitions"],
                KeySchema=properties["KeySchema"],
            )
            return name
        return None

    def remove(self, region: str, resource: dict[str, str]) -> None:
        kind, physical_id = resource["ResourceType"], resource["PhysicalResourceId"]
        try:
            if kind == "AWS::S3::Bucket":
                self.client("s3", region).delete_bucket(Bucket=physical_id)
            elif kind == "AWS::CloudFront::Distribution":
                cloudfront = self.client("cloudfront", region)
                etag = cloudfront.get_distribution(Id=physical_id)["ETag"]
                cloudfront.delete_distribution(Id=physical_id, IfMatch=etag)
            elif kind == "AWS::SecretsManager::Secret":
                self.client("secretsmanager", region).delete_secret(
                    SecretId=physical_id, ForceDeleteWithoutRecovery=True
                )
            elif kind == "AWS::Logs::LogGroup":
                self.client("logs", region).delete_log_group(logGroupName=physical_id)
            elif kind == "AWS::DynamoDB::Table":
                self.client("dynamodb", region).delete_table(TableName=physical_id)
        except ClientError as error:
            details = error.response.get("Error", {})
            reason = re.sub(r"\s+", " ", details.get("Message", ""))
            raise ResourceFailure(
                resource["LogicalResourceId"],
                f"{reason} (Service: {kind.split('::')[1]}, Status Code: "
                f"{error.response.get('ResponseMetadata', {}).get('HTTPStatusCode')})",
            ) from None
