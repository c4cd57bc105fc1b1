"""Both templates' permissions against AWS's published data, offline.

- CloudFormation's resource provider schemas (as cfn-lint ships them) list the permissions each
  resource type's create, update and delete handlers need; the deploy role must allow them all,
  but those serving a property no resource of ours sets (EXCEPTIONS, checked to stay unset).
- The Service Authorization Reference (as policy_sentry ships it) lists the resource types and
  ARN formats each action is authorized on; no statement of either template may name an ARN its
  action is never authorized on.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import cfnlint
import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from policy_sentry.querying.actions import get_actions_for_service, get_privilege_info
from policy_sentry.querying.all import get_all_actions
from policy_sentry.querying.arns import get_arn_types_for_service

from scripts.deploy_settings import Environment, load_environment, read_samconfig, samconfig_value
from tests.deploy.bootstrap_render import ACCOUNT, ROOT, render_bootstrap
from tests.template.conftest import Render

REGION = "us-east-1"  # where every optional resource exists (the web ACL)
SAMCONFIG = ROOT / "samconfig.toml"
CONFIG = read_samconfig(SAMCONFIG)
ENVIRONMENTS = sorted(  # the scripted ones, each with its boundary and deploy role
    name
    for name, config in CONFIG.items()
    if isinstance(config, dict) and samconfig_value(CONFIG, name, "parameter_overrides")
)
# Handler permissions serving a property (a dotted path) that no resource of the type sets.
EXCEPTIONS = {
    "AWS::CloudFront::Distribution": {
        "DistributionConfig.ConnectionMode": "cloudfront:*ConnectionGroup",
        "DistributionConfig.Origins.VpcOriginConfig": "cloudfront:GetVpcOrigin",
        "DistributionConfig.Staging": "cloudfront:UpdateDistributionWithStagingConfig",
    },
    "AWS::CodeDeploy::DeploymentGroup": {
        "OnPremisesInstanceTagFilters": "codedeploy:RegisterOnPremisesInstance",
    },
    "AWS::DynamoDB::Table": {
        "ImportSourceSpecification": "dynamodb:*Import* dynamodb:*Item dynamodb:Query dynamodb:Scan"
        " logs:CreateLogStream logs:DescribeLogStreams logs:PutLogEvents",
        "KinesisStreamSpecification": "dynamodb:*KinesisStreamingDestination kinesis:*",
        "ResourcePolicy": "dynamodb:*ResourcePolicy",
        "ContributorInsightsSpecification": "dynamodb:UpdateContributorInsights",
        "SSESpecification.KMSMasterKeyId": "kms:*",  # the AWS managed key's policy suffices
    },
    "AWS::Lambda::Alias": {"ProvisionedConcurrencyConfig": "lambda:*ProvisionedConcurrencyConfig"},
    "AWS::Lambda::Function": {
        "VpcConfig": "ec2:Describe*",
        "FileSystemConfigs": "elasticfilesystem:DescribeMountTargets s3files:ListMountTargets",
        "KmsKeyArn": "kms:*",
        "CodeSigningConfigArn": "lambda:*CodeSigningConfig",
        "CapacityProviderConfig": "lambda:PassCapacityProvider",
        "RecursiveLoop": "lambda:PutFunctionRecursionConfig",
        "FunctionScalingConfig": "lambda:PutFunctionScalingConfig",
        "RuntimeManagementConfig": "lambda:PutRuntimeManagementConfig",
    },
    "AWS::Lambda::Version": {
        "FunctionScalingConfig": "lambda:PutFunctionScalingConfig",
        "ProvisionedConcurrencyConfig": "lambda:PutProvisionedConcurrencyConfig",
        "RuntimePolicy": "lambda:PutRuntimeManagementConfig",
    },
    "AWS::Logs::LogGroup": {
        "KmsKeyId": "logs:*KmsKey",
        "DataProtectionPolicy": "logs:*DataProtectionPolicy",
        "FieldIndexPolicies": "logs:*IndexPolicy",
        "ResourcePolicyDocument": "logs:*ResourcePolicy",
        "DeletionProtectionEnabled": "logs:PutLogGroupDeletionProtection",
        "BearerTokenAuthenticationEnabled": "logs:PutBearerTokenAuthentication",
        "LogGroupClass": "logs:CreateLogDelivery firehose:*",  # the DELIVERY class
    },
    "AWS::S3::Bucket": {
        "AccessControl": "s3:*Acl",
        "AbacStatus": "s3:PutBucketAbac",
        "AccelerateConfiguration": "s3:PutAccelerateConfiguration",
        "AnalyticsConfigurations": "s3:PutAnalyticsConfiguration",
        "CorsConfiguration": "s3:PutBucketCORS",
        "IntelligentTieringConfigurations": "s3:PutIntelligentTieringConfiguration",
        "InventoryConfigurations": "s3:PutInventoryConfiguration",
        "LoggingConfiguration": "s3:PutBucketLogging",
        "MetadataConfiguration": "s3:UpdateBucketMetadata*",
        "MetadataTableConfiguration": "s3:*BucketMetadataTableConfiguration s3tables:*",
        "MetricsConfigurations": "s3:PutMetricsConfiguration",
        "NotificationConfiguration": "s3:PutBucketNotification",
        "ObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
        "ReplicationConfiguration": "s3:PutReplicationConfiguration",
        "WebsiteConfiguration": "s3:*BucketWebsite",
    },
    "AWS::SNS::Topic": {"DataProtectionPolicy": "sns:PutDataProtectionPolicy"},
    "AWS::SecretsManager::Secret": {"ReplicaRegions": "secretsmanager:*Regions*"},
}
# Handler permissions withheld whatever the properties, and why.
WITHHELD = {
    "iam:DeleteRolePermissionsBoundary": "would lift the boundary off a role; each keeps it",
    "iam:UpdateAssumeRolePolicy": "only for a changed trust policy, which SAM's roles never get;"
    " withheld so that no role's trust can be widened",
    "dynamodb:*TableReplica": "global-table replicas; the table is regional",
    "iam:CreateServiceLinkedRole": "for replicas and contributor insights, neither used",
}
# The SAR resource type of what Ref and Fn::GetAtt Arn give, and whether Ref gives the ARN.
ARN_TYPES = {
    "AWS::Lambda::Function": ("lambda", "function", False),
    "AWS::Lambda::Version": ("lambda", "function version", True),
    "AWS::CloudWatch::Alarm": ("cloudwatch", "alarm", False),
    "AWS::DynamoDB::Table": ("dynamodb", "table", False),
    "AWS::SecretsManager::Secret": ("secretsmanager", "Secret", True),
    "AWS::S3::Bucket": ("s3", "bucket", False),
}
# Action/resource pairs IAM authorizes that neither copy of the SAR lists, and where AWS says so.
SAR_GAPS = {
    ("cloudformation:*ChangeSet", "arn:aws:cloudformation:*:aws:transform/*"): "CloudFormation "
    "User Guide, template macros: CreateChangeSet on each transform the template declares",
}
LAMBDA = botocore.session.get_session().get_service_model("lambda")
CFNLINT_SAR = json.loads(
    (Path(cfnlint.__file__).parent / "data/AdditionalSpecs/Policies.json").read_text()
)
KNOWN = get_all_actions(lowercase=True) | {
    f"{service}:{action}" for service, data in CFNLINT_SAR.items() for action in data["Actions"]
}


def settings(environment: str) -> Environment:
    """The environment's stack and overrides, read as scripts/deploy.py reads them."""
    return load_environment(environment, SAMCONFIG, REGION)


def deployed_in(render: Render, environment: str) -> dict[str, Any]:
    return render(REGION, **settings(environment).parameter_overrides)


def bootstrap(environment: str):
    stack = settings(environment).stack
    return render_bootstrap(environment, region=REGION, AppStackName=stack)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def matches(action: str, patterns: Any) -> bool:
    return any(fnmatchcase(action.lower(), p.lower()) for p in as_list(patterns))


def is_set(node: Any, path: list[str]) -> bool:
    if isinstance(node, list):
        return any(is_set(item, path) for item in node)
    return not path or (
        isinstance(node, dict) and path[0] in node and is_set(node[path[0]], path[1:])
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deploy_role_allows_what_cloudformation_needs_for_each_resource(
    render: Render, transformed: dict[str, Any], environment: str
) -> None:
    """Resource scoping is not checked: handler permissions name no resources."""
    role = bootstrap(environment)
    allows = [s["Action"] for s in role.deploy_policy["Statement"] if s["Effect"] == "Allow"]
    everything = [*deployed_in(render, environment)["Resources"].values()]
    everything += transformed["Resources"].values()  # and what a parameter may add (AlarmEmail)
    missing = set()
    for kind in {r["Type"] for r in everything}:
        handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, kind).schema["handlers"]
        excused = EXCEPTIONS.get(kind, {})
        for path in excused:
            for r in everything:
                assert r["Type"] != kind or not is_set(r.get("Properties", {}), path.split("."))
        for permission in {
            p
            for h in ("create", "update", "delete")
            for p in handlers.get(h, {}).get("permissions", [])
        }:
            if permission.lower() not in KNOWN:  # an API name, not an IAM action: IAM never sees it
                continue
            if any(matches(permission, a) for a in allows):
                continue
            if matches(permission, [*WITHHELD, *" ".join(excused.values()).split()]):
                continue
            missing.add(f"{kind}: {permission}")

    assert not missing, "\n".join(sorted(missing))


@cache
def formats(action: str) -> list[str]:
    """The ARN formats of the resource types `action` is authorized on (["*"]: none). The two
    copies differ in age (and policy_sentry's merges API Gateway's two pages): a type either lists
    counts. A Lambda API taking a Qualifier (botocore's model) also acts on function:NAME:QUALIFIER
    (the version or alias ARN)."""
    service, name = action.split(":")
    arns = {kind.lower(): arn for kind, arn in get_arn_types_for_service(service).items()}
    kinds = set(get_privilege_info(service, name)["resource_types"]) - {""}
    kinds |= set(CFNLINT_SAR[service]["Actions"].get(name.lower(), {}).get("Resources", []))
    found = sorted(arns[k.lower()] for k in kinds if k.lower() in arns) or ["*"]
    operation = "Invoke" if action == "lambda:InvokeFunction" else name
    model = LAMBDA.operation_model(operation) if operation in LAMBDA.operation_names else None
    if service == "lambda" and model and "Qualifier" in model.input_shape.members:
        found += [f + ":${Qualifier}" for f in found if f.endswith(":function:${FunctionName}")]
    return found


def overlap(pattern: str, arn_format: str) -> bool:
    """Whether an ARN matches both the policy's `pattern` (* and ?) and the SAR's `arn_format`,
    whose ${Variables} each stand for one or more characters other than `:`."""
    tokens = [
        None if part.startswith("${") else c
        for part in re.split(r"(\$\{\w+\})", arn_format)
        for c in ([part] if part.startswith("${") else part)
    ]
    todo, seen = [(0, 0, False)], set()
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j, started = state
        if i == len(pattern) and j == len(tokens):
            return True
        p = pattern[i] if i < len(pattern) else None
        if p == "*":
            todo.append((i + 1, j, started))
        if j < len(tokens) and tokens[j] is None and started:
            todo.append((i, j + 1, False))
        if p is None or j == len(tokens):
            continue
        step = i + (p != "*")
        if tokens[j] is None and p != ":":
            todo.append((step, j, True))
        elif tokens[j] is not None and p in ("*", "?", tokens[j]):
            todo.append((step, j + 1, False))
    return False


def refusals(statements: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Each action of a statement no resource of which it is authorized on, and each resource
    none of its actions is authorized on (a statement may join actions on several types)."""
    found = []
    for where, statement in statements:
        resources = as_list(statement["Resource"])
        authorized = {}
        for pattern in as_list(statement["Action"]):
            service = pattern.split(":")[0]
            actions = [a for a in get_actions_for_service(service) if matches(a, pattern)]
            assert actions, f"{where}: no such action {pattern}"
            authorized[pattern] = {
                arn
                for arn in resources
                for action in actions
                for f in formats(action)
                if arn == "*"
                or (f != "*" and overlap(arn, f))
                or any(matches(action, a) and fnmatchcase(arn, r) for a, r in SAR_GAPS)
            }
        found += [f"{where}: {a} on none of {resources}" for a, on in authorized.items() if not on]
        found += [
            f"{where}: no action of {[*authorized]} on {arn}"
            for arn in resources
            if not any(arn in on for on in authorized.values())
        ]
    return found


def policy_statements(resources: dict[str, Any], resolve=lambda v: v) -> list[tuple[str, Any]]:
    """(resource/Sid, statement) of every policy document in the resources' properties."""
    found = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for statement in as_list(node.get("Statement", [])):
                if "Resource" in statement:
                    named = {**statement, "Resource": resolve(statement["Resource"])}
                    found.append((f"{where}/{statement.get('Sid', '')}", named))
            for value in node.values():
                walk(value, where)
        elif isinstance(node, list):
            for value in node:
                walk(value, where)

    for name, resource in resources.items():
        walk(resource.get("Properties", {}), name)
    return found


def arn_resolver(resources: dict[str, Any], stack: str):
    """Fn::Sub, Fn::GetAtt .Arn and Ref of a resource in the stack, as the ARNs they give."""
    pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    pseudo |= {"AWS::StackName": stack, "AWS::URLSuffix": "amazonaws.com"}

    def arn(logical: str, by_ref: bool = False) -> str:
        service, kind, ref_is_arn = ARN_TYPES[resources[logical]["Type"]]
        if by_ref and not ref_is_arn:
            return logical
        values = {"Partition": "aws", "Region": REGION, "Account": ACCOUNT}
        raw = get_arn_types_for_service(service)[kind]
        return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m[1], logical), raw)

    def resolve(node: Any, variables: dict[str, str] | None = None) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        [(function, argument)] = node.items()
        if function == "Ref":
            return pseudo[argument] if argument in pseudo else arn(argument, by_ref=True)
        if function == "Fn::GetAtt":
            assert argument[1] == "Arn", argument
            return arn(argument[0])
        assert function == "Fn::Sub", node
        text, given = (argument, {}) if isinstance(argument, str) else argument
        names = {key: resolve(value) for key, value in given.items()}

        def replace(found: re.Match[str]) -> str:
            name = found[1]
            if name in names or name in pseudo:
                return names.get(name) or pseudo[name]
            return arn(name.removesuffix(".Arn"), by_ref="." not in name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    return resolve


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_statement_names_resources_its_actions_are_authorized_on(
    render: Render, environment: str
) -> None:
    app = deployed_in(render, environment)["Resources"]
    statements = policy_statements(app, arn_resolver(app, settings(environment).stack))
    statements += policy_statements(bootstrap(environment).resources)

    assert len(statements) > 40
    refused = refusals(statements)
    assert not refused, "\n".join(refused)


@pytest.mark.parametrize(
    ("action", "resource", "refused"),
    [
        ("lambda:UpdateAlias", "function:f:live", True),  # alias actions act on the function
        ("lambda:UpdateAlias", "function:f", False),
        ("lambda:InvokeFunction", "function:f:*", False),  # Invoke takes a Qualifier
        ("lambda:GetProvisionedConcurrencyConfig", "function:f", True),
        ("codedeploy:PutLifecycleEventHookExecutionStatus", "deploymentgroup:a/b", True),
        ("s3:*", "s3:::bucket/*", False),
    ],
)
def test_the_check_refuses_an_arn_the_action_is_never_authorized_on(
    action: str, resource: str, refused: bool
) -> None:
    service = action.split(":")[0]
    arn = (
        f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"
        if service != "s3"
        else f"arn:aws:{resource}"
    )
    statement = {"Action": action, "Resource": arn}

    assert bool(refusals([("test", statement)])) is refused
