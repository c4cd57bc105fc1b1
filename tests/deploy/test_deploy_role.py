"""The deploy role and the boundary of bootstrap/template.yaml, as created for an environment:
enough for CloudFormation, cannot escalate, every statement explained.

AWS's own data, as cfn-lint ships it, stands in for IAM: the Service Authorization Reference
(actions, their resource types and ARN formats) and each resource type's handler permissions
(what CloudFormation calls to create, read, update and delete it).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import cfnlint
import pytest
import samcli

from tests.deploy.bootstrap_render import ACCOUNT, REGION, Bootstrap, render_bootstrap
from tests.deploy.policy_eval import allows
from tests.template.conftest import load_template, render_template, resources_of_type

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CFNLINT_DATA = Path(cfnlint.__file__).parent / "data"
ROLE_WRITES = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
}
MANAGED_POLICIES = {  # what SAM attaches to function roles, and what those policies allow
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    },
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    },
}
# CloudFormation checks CreateChangeSet on the transform it runs (SAM's IAM guide); the reference
# has no resource type for it.
TRANSFORM_ARN = f"arn:aws:cloudformation:{REGION}:aws:transform/Serverless-2016-10-31"
# Handler permissions CloudFormation needs only for features this template does not use.
NOT_NEEDED = {
    "kms:*": "no customer managed key anywhere",
    "ec2:*": "no function in a VPC",
    "elasticfilesystem:*": "no file system",
    "s3files:*": "no file system",
    "kinesis:*": "no DynamoDB stream to Kinesis",
    "firehose:*": "no log delivery",
    "s3tables:*": "no S3 table",
    "payments:*": "no paid AWS WAF rule group",
    "iam:CreateServiceLinkedRole": "no DynamoDB replica",
    "iam:DeleteRolePermissionsBoundary": "removing the boundary is the escalation it prevents",
    "iam:UpdateAssumeRolePolicy": "trust policies never change; editing them could hand roles out",
    "secretsmanager:*Regions*": "no replicated secret",
    "lambda:PutFunctionCodeSigningConfig": "no code signing",
    "lambda:DeleteFunctionCodeSigningConfig": "no code signing",
    "lambda:GetCodeSigningConfig": "no code signing (the function's setting is read)",
    "lambda:Put*Config": "no provisioned concurrency, recursion, scaling or runtime settings",
    "lambda:DeleteProvisionedConcurrencyConfig": "no provisioned concurrency",
    "lambda:PassCapacityProvider": "no Lambda managed instances",
    "lambda:AssociateRuntimeAlias": "no runtime alias",
    "dynamodb:*Item": "item writes only serve table imports",
    "dynamodb:Scan": "table imports only",
    "dynamodb:Query": "table imports only",
    "dynamodb:*Import*": "no table import",
    "dynamodb:*Replica*": "no global table",
    "dynamodb:EnableKinesisStreamingDestination": "no Kinesis stream",
    "dynamodb:DisableKinesisStreamingDestination": "no Kinesis stream",
    "dynamodb:UpdateKinesisStreamingDestination": "no Kinesis stream",
    "dynamodb:UpdateContributorInsights": "contributor insights stay off",
    "dynamodb:PutResourcePolicy": "no table resource policy",
    "dynamodb:DeleteResourcePolicy": "no table resource policy",
    "logs:*KmsKey": "no customer managed key",
    "logs:PutDataProtectionPolicy": "no data protection policy",
    "logs:DeleteDataProtectionPolicy": "no data protection policy",
    "logs:PutIndexPolicy": "no field index policy",
    "logs:DeleteIndexPolicy": "no field index policy",
    "logs:PutResourcePolicy": "no log resource policy",
    "logs:DeleteResourcePolicy": "no log resource policy",
    "logs:CreateLogDelivery": "no log delivery",
    "logs:PutBearerTokenAuthentication": "no bearer token",
    "logs:PutLogGroupDeletionProtection": "no deletion protection",
    "logs:CreateLogStream": "table imports only",
    "logs:DescribeLogStreams": "table imports only",
    "logs:PutLogEvents": "table imports only",
    "s3:*Analytics*": "bucket feature not used",
    "s3:*Inventory*": "bucket feature not used",
    "s3:*Metrics*": "bucket feature not used",
    "s3:*Notification*": "bucket feature not used",
    "s3:*Replication*": "bucket feature not used",
    "s3:*Website*": "bucket feature not used",
    "s3:*Accelerate*": "bucket feature not used",
    "s3:*Cors*": "bucket feature not used",
    "s3:*Logging*": "bucket feature not used",
    "s3:*ObjectLock*": "bucket feature not used",
    "s3:*IntelligentTiering*": "bucket feature not used",
    "s3:*Metadata*TableConfiguration": "bucket feature not used",
    "s3:*Abac*": "bucket feature not used",
    "s3:*Acl": "ACLs are off (BucketOwnerEnforced)",
    "s3:DeleteBucketEncryption": "encryption is never removed",
    "s3:DeleteBucketLifecycle": "no lifecycle rules",
    "s3:GetObjectMetadata": "table imports only",
    "s3:REST.PUT.OBJECT": "not an IAM action (log delivery)",
    "sns:PutDataProtectionPolicy": "no data protection policy",
    "cloudfront:*ConnectionGroup": "no connection group",
    "cloudfront:GetVpcOrigin": "no VPC origin",
    "cloudfront:UpdateDistributionWithStagingConfig": "no continuous deployment",
    "cloudfront:CreateDistributionWithTags": "not an IAM action: CreateDistribution and "
    "TagResource are checked",
    "apigateway:TagResource": "not an IAM action: tags are POST/DELETE on /tags",
    "apigateway:UntagResource": "not an IAM action: tags are POST/DELETE on /tags",
    "codedeploy:RegisterOnPremisesInstance": "no on-premises instance",
}
SAMCLI = Path(samcli.__file__).parent
SCRIPTS = ROOT / "scripts"
# What the role does besides CloudFormation's handlers: the calls `sam deploy` (the SAM CLI pinned
# in requirements-dev.txt and deploy.yml) and scripts/deploy.py make themselves. Each names the
# files and boto3 methods that make the call, and a test finds them there.
TOOL_CALLS: dict[str, tuple[str, list[tuple[Path, str]]]] = {
    "cloudformation:CreateChangeSet": (
        "sam deploy changes the stack by change set",
        [(SAMCLI / "lib/deploy/deployer.py", "create_change_set")],
    ),
    "cloudformation:DescribeChangeSet": (
        "sam deploy waits for the change set and prints it",
        [(SAMCLI / "lib/deploy/deployer.py", "describe_change_set")],
    ),
    "cloudformation:ExecuteChangeSet": (
        "sam deploy runs the change set",
        [(SAMCLI / "lib/deploy/deployer.py", "execute_change_set")],
    ),
    "cloudformation:DescribeStacks": (
        "sam deploy follows the stack; deploy.py reads its outputs and parameters",
        [
            (SAMCLI / "lib/deploy/deployer.py", "describe_stacks"),
            (SCRIPTS / "deploy.py", "describe_stacks"),
        ],
    ),
    "cloudformation:DescribeStackEvents": (
        "sam deploy prints the events while it waits",
        [(SAMCLI / "lib/deploy/deployer.py", "describe_stack_events")],
    ),
    "cloudformation:GetTemplateSummary": (
        "sam deploy reads the deployed stack's parameters before an update",
        [(SAMCLI / "lib/deploy/deployer.py", "get_template_summary")],
    ),
    "cloudformation:RollbackStack": (
        "sam deploy --on-failure DELETE rolls a failed update back before it deletes",
        [(SAMCLI / "lib/deploy/deployer.py", "rollback_stack")],
    ),
    "cloudformation:DeleteStack": (
        "sam deploy --on-failure DELETE removes a stack whose first create failed",
        [(SAMCLI / "lib/deploy/deployer.py", "delete_stack")],
    ),
    "s3:PutObject": (
        "sam deploy uploads the build's artifacts; deploy.py uploads site/",
        [
            (SAMCLI / "lib/package/s3_uploader.py", "upload"),
            (SCRIPTS / "site_publish.py", "put_object"),
        ],
    ),
    "s3:GetObject": (
        "sam deploy asks whether an artifact is uploaded already (HeadObject)",
        [(SAMCLI / "lib/package/s3_uploader.py", "head_object")],
    ),
    "cloudfront:CreateInvalidation": (
        "deploy.py (site_publish.py) clears CloudFront's copies of changed files",
        [(SCRIPTS / "site_publish.py", "create_invalidation")],
    ),
    "secretsmanager:PutSecretValue": (
        "deploy.py --store-key writes the key",
        [(SCRIPTS / "key_store.py", "put_secret_value")],
    ),
    "secretsmanager:UpdateSecretVersionStage": (
        "deploy.py --store-key makes a key stored once before current again",
        [(SCRIPTS / "key_store.py", "update_secret_version_stage")],
    ),
}
# What `make destroy ENV=...` calls besides DeleteStack: it empties the versioned site bucket
# (every version and delete marker) so CloudFormation can delete it.
TEARDOWN_CALLS = {
    "s3:ListBucketVersions": "make destroy lists the site bucket's versions and delete markers",
    "s3:DeleteObjectVersion": "make destroy deletes them, so the stack can delete the bucket",
}


@cache
def staging() -> Bootstrap:
    return render_bootstrap("staging")


def deploy_policy() -> dict[str, Any]:
    return staging().deploy_policy


def boundary_policy() -> dict[str, Any]:
    return staging().boundary


@cache
def iam_reference() -> dict[str, Any]:
    return json.loads((CFNLINT_DATA / "AdditionalSpecs" / "Policies.json").read_text())


def handler_permissions(resource_type: str) -> set[str]:
    schemas = CFNLINT_DATA / "schemas"
    files = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    schema = json.loads((schemas / "resources" / f"{files[resource_type]}.json").read_text())
    return {
        permission
        for operation in ("create", "read", "update", "delete")
        for permission in schema["handlers"].get(operation, {}).get("permissions", [])
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed_actions(policy: dict[str, Any]) -> set[str]:
    return {
        action
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


def granted(action: str, patterns: set[str]) -> bool:
    return any(fnmatch.fnmatch(action.lower(), pattern.lower()) for pattern in patterns)


def documented_sids(heading: str) -> list[str]:
    """The first-column Sids of the table under `heading` in docs/deploy-role.md."""
    text = (DOCS / "deploy-role.md").read_text()
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)`", section, flags=re.MULTILINE)


def arn_format_regex(arn_format: str) -> str:
    pattern = re.sub(r"\$\{[A-Za-z]+\}", "PLACEHOLDER", arn_format)
    return re.escape(pattern).replace("PLACEHOLDER", "[^:]*").replace(r"\.\*", ".*")


def sample_arn(resource: str) -> str:
    """A concrete ARN the policy's resource pattern matches."""
    return resource.replace("*", "x").replace("?", "A")


@pytest.mark.parametrize(
    ("policy", "heading"),
    [
        (deploy_policy, "Statements of the deploy role"),
        (boundary_policy, "Statements of the boundary"),
    ],
)
def test_every_statement_is_explained(policy: Any, heading: str) -> None:
    assert [s["Sid"] for s in policy()["Statement"]] == documented_sids(heading)


def test_each_policy_fits_iams_size_limit() -> None:
    """IAM refuses a managed policy over 6,144 characters (white space not counted): measured
    with the longest names the parameters allow, in a region with a long name."""
    longest = render_bootstrap("a" * 16, region="ap-southeast-2", AppStackName="a" * 37)
    policies = [*longest.deploy_policies().values(), longest.boundary]

    assert len(policies) == 4
    for policy in policies:
        assert len(re.sub(r"\s", "", json.dumps(policy))) <= 6144


def arn_formats(action: str) -> list[str]:
    """Regexes of the ARNs `action` can be scoped to; [] when it takes no resource."""
    service, name = action.split(":")
    entry = iam_reference()[service]["Actions"].get(name.lower())
    assert entry is not None, f"no such action {action}"
    kinds = iam_reference()[service]["Resources"]
    return [
        arn_format_regex(arn)
        for kind in entry.get("Resources", [])
        for arn in kinds[kind.lower()]["ARNFormats"]
    ]


@pytest.mark.parametrize("policy", [deploy_policy, boundary_policy])
def test_actions_exist_and_resources_have_their_type(policy: Any) -> None:
    """Every action exists and reaches one of the statement's resources, and every resource is
    one of the statement's actions' (an action without resource types needs '*')."""
    for statement in policy()["Statement"]:
        sid, actions = statement["Sid"], as_list(statement["Action"])
        resources = [r for r in as_list(statement["Resource"]) if r != TRANSFORM_ARN]
        assert not any("*" in action for action in actions), sid
        formats = {action: arn_formats(action) for action in actions}
        if resources == ["*"]:
            continue
        for action, regexes in formats.items():
            assert regexes, f"{sid}: {action} takes no resource, so it needs '*'"
            arns = [sample_arn(resource) for resource in resources]
            assert any(re.fullmatch(r, arn) for r in regexes for arn in arns), (sid, action)
        for resource in resources:
            arn = sample_arn(resource)
            assert any(re.fullmatch(r, arn) for rs in formats.values() for r in rs), (sid, arn)


def test_roles_are_written_only_with_the_boundary() -> None:
    for statement in deploy_policy()["Statement"]:
        actions = set(as_list(statement["Action"]))
        assert not any(a.startswith("iam:") and "*" in a for a in actions), statement["Sid"]
        assert not actions & {
            "iam:DeleteRolePermissionsBoundary",
            "iam:UpdateAssumeRolePolicy",
            "iam:CreatePolicy",
            "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicy",
            "iam:DeletePolicyVersion",
        }, statement["Sid"]
        if actions & ROLE_WRITES:
            assert actions <= ROLE_WRITES, statement["Sid"]
            condition = statement["Condition"]
            assert condition["StringEquals"] == {"iam:PermissionsBoundary": staging().boundary_arn}
        if actions & {"iam:AttachRolePolicy", "iam:DetachRolePolicy"}:
            assert set(statement["Condition"]["ArnEquals"]["iam:PolicyARN"]) == set(
                MANAGED_POLICIES
            )
        if "iam:PassRole" in actions:
            services = statement["Condition"]["StringEquals"]["iam:PassedToService"]
            assert set(services) == {"lambda.amazonaws.com", "codedeploy.amazonaws.com"}


def test_secret_values_are_read_only_in_the_environments_own_secrets() -> None:
    """CloudFormation's secret handler reads the value whenever it updates a secret (its tags
    included), so the role may read its own stack's three secrets, and nothing else's."""
    readers = [
        statement
        for statement in deploy_policy()["Statement"]
        if statement["Effect"] == "Allow"
        and granted("secretsmanager:GetSecretValue", set(as_list(statement["Action"])))
    ]

    assert [s["Sid"] for s in readers] == ["StackSecrets"]
    prefix = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{staging().stack}/"
    for resource in as_list(readers[0]["Resource"]):
        assert resource.startswith(prefix), resource
        assert resource.endswith("-??????"), resource  # one secret each, not a name prefix


def test_cloudfront_reaches_only_this_environments_distribution() -> None:
    for statement in deploy_policy()["Statement"]:
        actions = [a for a in as_list(statement["Action"]) if a.startswith("cloudfront:")]
        if not actions:
            continue
        resources = as_list(statement["Resource"])
        assert f"arn:aws:cloudfront::{ACCOUNT}:*" not in resources, statement["Sid"]
        if resources == ["*"]:
            assert all(a.startswith("cloudfront:Create") for a in actions), statement["Sid"]
        if any("distribution/" in r for r in resources):
            tags = {k: v for op in statement["Condition"].values() for k, v in op.items()}
            environment = tags.get("aws:ResourceTag/environment")
            assert environment == "staging", statement["Sid"]


def test_samconfig_tags_every_stack_with_its_environment() -> None:
    """The distribution statements recognise an environment's distribution by this tag."""
    text = (ROOT / "samconfig.toml").read_text()
    for env in ("ci", "staging", "prod"):
        section = text.split(f"[{env}.deploy.parameters]", 1)[1].split("\n[", 1)[0]
        assert re.search(rf'^tags = ".*\benvironment={env}\b', section, re.MULTILINE), env


def all_features_on() -> dict[str, Any]:
    return render_template(
        load_template(),
        EnableWaf="true",
        AlarmEmail="ops@example.com",
        PermissionsBoundaryName="boundary-daily-rooms-staging",
        CreateRoomReservedConcurrency="5",
    )


def test_cloudformation_may_call_what_each_resource_of_the_template_needs() -> None:
    types = {resource["Type"] for resource in all_features_on()["Resources"].values()}
    allowed = allowed_actions(deploy_policy())

    missing = {
        f"{resource_type}: {permission}"
        for resource_type in types
        for permission in handler_permissions(resource_type)
        if not granted(permission, allowed) and not granted(permission, set(NOT_NEEDED))
    }

    assert not missing, sorted(missing)


def test_the_reasons_for_leaving_out_are_not_granted_anyway() -> None:
    allowed = allowed_actions(deploy_policy())

    for pattern, reason in NOT_NEEDED.items():
        assert reason, pattern
        assert not any(fnmatch.fnmatch(a.lower(), pattern.lower()) for a in allowed), pattern


def needed_actions() -> set[str]:
    """What CloudFormation's handlers need for the template's resource types (all features on),
    and what the tools call themselves."""
    types = {resource["Type"] for resource in all_features_on()["Resources"].values()}
    handlers = {permission for kind in types for permission in handler_permissions(kind)}
    return {action.lower() for action in handlers | set(TOOL_CALLS) | set(TEARDOWN_CALLS)}


def unneeded_actions(policy: dict[str, Any]) -> set[str]:
    needed = needed_actions()
    return {action for action in allowed_actions(policy) if action.lower() not in needed}


def test_the_role_may_do_only_what_cloudformation_or_the_tools_need() -> None:
    assert unneeded_actions(deploy_policy()) == set()


@pytest.mark.parametrize(
    ("actions", "resource"),
    [
        (["iam:CreateUser", "iam:CreateAccessKey"], f"arn:aws:iam::{ACCOUNT}:user/*"),
        (["iam:AttachUserPolicy"], f"arn:aws:iam::{ACCOUNT}:user/daily-rooms-*"),
        (["sts:AssumeRole"], f"arn:aws:iam::{ACCOUNT}:role/daily-rooms-staging/*"),
        (
            ["lambda:InvokeFunction"],
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:daily-rooms-staging-*",
        ),
    ],
)
def test_an_action_nothing_needs_is_refused(actions: list[str], resource: str) -> None:
    policy = copy.deepcopy(deploy_policy())
    policy["Statement"].append(
        {"Sid": "Added", "Effect": "Allow", "Action": actions, "Resource": resource}
    )

    assert unneeded_actions(policy) == set(actions)


def test_the_teardown_calls_are_given_a_reason() -> None:
    for action, reason in TEARDOWN_CALLS.items():
        assert reason, action
        assert granted(action, allowed_actions(deploy_policy())), action


@pytest.mark.parametrize("action", sorted(TOOL_CALLS))
def test_the_tools_really_make_the_calls_listed_for_them(action: str) -> None:
    reason, calls = TOOL_CALLS[action]

    assert reason
    for source, method in calls:
        called = rf"\.{method}\(|[\"']{method}[\"']"  # a call, or a paginator's or waiter's name
        assert re.search(called, source.read_text()), (action, source.name, method)


def test_every_role_of_the_template_stays_inside_the_boundary() -> None:
    bounded = allowed_actions(boundary_policy())
    roles = resources_of_type(all_features_on(), "AWS::IAM::Role")

    assert len(roles) == 4  # two functions, the PreTraffic check, CodeDeploy
    for name, role in roles.items():
        properties = role["Properties"]
        actions = {
            action
            for policy in properties.get("Policies", [])
            for statement in as_list(policy["PolicyDocument"]["Statement"])
            for action in as_list(statement["Action"])
        }
        for arn in properties.get("ManagedPolicyArns", []):
            actions |= MANAGED_POLICIES[arn]
        outside = sorted(a for a in actions if not granted(a, bounded))
        assert not outside, f"{name} needs {outside}: add them to the boundary (bootstrap/)"


# ---- The key and the state table: only code running in this environment's functions ----
STAGING = "daily-rooms-staging"
KEY_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{STAGING}/daily-api-key-AbCdEf"
ORIGIN_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{STAGING}/origin-verify-AbCdEf"
STATE_TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{STAGING}-StateTable-1A2B3C"
FUNCTION_ONLY = [
    ("secretsmanager:GetSecretValue", KEY_SECRET),
    ("secretsmanager:GetSecretValue", ORIGIN_SECRET),
    ("secretsmanager:BatchGetSecretValue", "*"),
    ("dynamodb:PutItem", STATE_TABLE),
    ("dynamodb:UpdateItem", STATE_TABLE),
]


def source_function(name: str, account: str = ACCOUNT) -> dict[str, str]:
    """The context key Lambda puts on requests made with a function's execution-role
    credentials (Lambda developer guide: "Using source function ARN to control function access
    behavior"); a session of the same role assumed by anyone else carries none."""
    return {"lambda:SourceFunctionArn": f"arn:aws:lambda:{REGION}:{account}:function:{name}"}


@pytest.mark.parametrize(("action", "resource"), FUNCTION_ONLY)
def test_only_this_environments_functions_may_read_the_key_or_write_the_table(
    action: str, resource: str
) -> None:
    """The deploy role may create a role under its stack's path with the boundary and any trust
    policy, so the boundary itself must refuse the key to a session that is not one of the
    environment's functions."""
    boundary = boundary_policy()

    assert allows(boundary, action, resource, source_function(f"{STAGING}-create-room"))
    assert not allows(boundary, action, resource)  # the role assumed from another account
    assert not allows(boundary, action, resource, source_function("other-project-reader"))
    assert not allows(boundary, action, resource, source_function("daily-rooms-prod-create-room"))
    assert not allows(
        boundary, action, resource, source_function(f"{STAGING}-x", account="210987654321")
    )


def samconfig_stack_names() -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    return {
        env: section["global"]["parameters"]["stack_name"]
        for env, section in config.items()
        if isinstance(section, dict) and env != "default"  # `default` is deployed as admin
    }


@pytest.mark.parametrize(
    "function", ["CreateRoomFunction", "HealthFunction", "PreTrafficHookFunction"]
)
def test_every_environments_functions_are_named_as_its_boundary_expects(function: str) -> None:
    name = load_template()["Resources"][function]["Properties"]["FunctionName"]["Fn::Sub"]

    environments = samconfig_stack_names()
    assert set(environments) >= {"ci", "staging", "prod"}
    for env, stack in environments.items():
        bootstrap = render_bootstrap(env)
        assert bootstrap.stack == stack, env  # make bootstrap ENV=x governs make deploy ENV=x
        deployed_name = name.replace("${AWS::StackName}", stack)
        assert len(deployed_name) <= 64, env  # Lambda's limit on function names
        key = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{stack}/origin-verify-AbCdEf"
        context = source_function(deployed_name)
        assert allows(bootstrap.boundary, "secretsmanager:GetSecretValue", key, context), env


def test_the_function_sends_the_key_only_to_dailys_api() -> None:
    """DailyApiUrl is where the create function sends the key: a stack parameter must not be
    able to point it at another host."""
    parameter = load_template()["Parameters"]["DailyApiUrl"]
    pattern = parameter["AllowedPattern"]  # CloudFormation matches the whole value

    assert re.fullmatch(pattern, parameter["Default"])
    assert re.fullmatch(pattern, "https://api.daily.co/v1/")
    for url in (
        "https://attacker.example/v1",
        "https://api.daily.co.attacker.example/v1",
        "https://api.daily.co@attacker.example/v1",
        "http://api.daily.co/v1",
        "https://api.daily.co/v1/../../x",
        "https://api.daily.co:8443/v1",
    ):
        assert not re.fullmatch(pattern, url), url
