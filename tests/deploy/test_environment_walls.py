"""Each environment walled off: staging's deploy role, boundary and trust policy, evaluated like
IAM, reach staging's stack and resources and refuse prod's.

Every (statement, action, resource) the staging policies allow is asked twice: on a staging
resource the pattern names (allowed), and on the same resource of prod (refused), each with the
request context such a request carries (tags, boundary, calling function). The few patterns no
environment can be told apart by, and the actions that take no resource, are listed with their
reason, so a new statement that reaches prod fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from tests.deploy.bootstrap_render import ACCOUNT, REGION, Bootstrap, render_bootstrap
from tests.deploy.policy_eval import allows, as_list, trusts
from tests.template.conftest import load_template, render_template

REPOSITORY = "octo-org/daily-rooms"
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

# Resource patterns that name no environment: what the other environment's request reaches too.
SHARED = {
    r"transform/Serverless-2016-10-31": "AWS's SAM transform, which every stack runs",
    r"deploymentconfig:CodeDeployDefault\.Lambda\*": "AWS's own canary settings, read only",
    r"::/apis|::/apis/\*|::/tags/\*": "HTTP API routes, integrations and stages carry neither "
    "the API's name nor tags, and tag paths name no API; only the API object is named (Deny)",
    r"origin-access-control/\*|origin-request-policy/\*|response-headers-policy/\*": (
        "CloudFront's OAC, origin request and response headers policies take no tags"
    ),
}
# Statements whose actions take no resource at all ("*").
ACCOUNT_WIDE = {
    "GeneratePasswords": "GetRandomPassword returns random text and touches nothing",
    "ListLogGroups": "list and describe calls, no writes",
    "CloudFrontCreates": "CloudFront's create calls take no resource; they make new ones only",
    "StopACanaryOnCancel": "StopDeployment takes no resource; a deployment id is needed",
    "FunctionTraces": "X-Ray writes take no resource",
    "ReadSecretsInOneCall": "still needs GetSecretValue on each secret, which is walled",
    "ReportTheCheck": "takes no resource; only the environment's PreTraffic function",
}


@cache
def staging() -> Bootstrap:
    return render_bootstrap("staging", GitHubRepository=REPOSITORY)


@cache
def prod() -> Bootstrap:
    return render_bootstrap("prod", GitHubRepository=REPOSITORY)


def concrete(pattern: str) -> str:
    """One ARN the pattern names: each wildcard filled in the same way."""
    return pattern.replace("*", "x1").replace("?", "A")


def deploy_context(caller: Bootstrap, owner: Bootstrap | None = None) -> dict[str, str]:
    """A request of `caller`'s deploy role (the boundary and tags it sets) about a resource of
    `owner` (the tags it carries), by default its own."""
    return {
        "iam:PermissionsBoundary": caller.boundary_arn,
        "iam:PassedToService": "lambda.amazonaws.com",
        "iam:PolicyARN": BASIC_EXECUTION,
        "aws:RequestTag/environment": caller.environment,
        "aws:ResourceTag/environment": (owner or caller).environment,
        "aws:ResourceAccount": ACCOUNT,
    }


def function_contexts(env: Bootstrap) -> list[dict[str, str]]:
    """The requests of `env`'s roles: from each function's code, and from CodeDeploy's role."""
    functions = [f"{env.stack}-create-room", f"{env.stack}-health"]
    functions.append(f"CodeDeployHook_{env.stack}-pre-traffic")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
    return [{"lambda:SourceFunctionArn": arn + name} for name in functions] + [{}]


@dataclass(frozen=True)
class Pair:
    sid: str
    action: str
    pattern: str  # the staging statement's resource
    own: str  # a staging resource it names
    other: str  # the same resource of prod


def pairs(mine: dict[str, Any], theirs: dict[str, Any]) -> list[Pair]:
    """Every allowed action on every resource pattern of `mine`, with the resource the same
    statement of `theirs` names."""
    statements = {s["Sid"]: s for s in theirs["Statement"]}
    found = []
    for statement in mine["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        other = as_list(statements[statement["Sid"]]["Resource"])
        for action in as_list(statement["Action"]):
            for own, twin in zip(as_list(statement["Resource"]), other, strict=True):
                found.append(Pair(statement["Sid"], action, own, concrete(own), concrete(twin)))
    return found


def shared_reason(resource: str) -> str | None:
    """Why `resource` (a statement's pattern) names no environment, if it is listed."""
    reasons = [reason for shared, reason in SHARED.items() if re.search(f"({shared})$", resource)]
    return reasons[0] if reasons else None


def deploy_pairs() -> list[Pair]:
    return pairs(staging().deploy_policy, prod().deploy_policy)


def boundary_pairs() -> list[Pair]:
    return pairs(staging().boundary, prod().boundary)


@pytest.mark.parametrize("pair", deploy_pairs(), ids=lambda p: f"{p.sid}-{p.action}-{p.own}")
def test_staging_deploy_role_does_to_staging_what_it_may_not_do_to_prod(pair: Pair) -> None:
    policy = staging().deploy_policy
    own_context, other_context = deploy_context(staging()), deploy_context(prod())

    assert allows(policy, pair.action, pair.own, own_context)
    if pair.pattern == "*":
        assert pair.sid in ACCOUNT_WIDE
    elif shared_reason(pair.pattern) is None:
        assert not allows(policy, pair.action, pair.other, other_context)
        # prod's resource, asked with what staging's role itself sets (boundary, request tags)
        assert not allows(policy, pair.action, pair.other, deploy_context(staging(), prod()))


@pytest.mark.parametrize("pair", boundary_pairs(), ids=lambda p: f"{p.sid}-{p.action}-{p.own}")
def test_staging_functions_do_to_staging_what_they_may_not_do_to_prod(pair: Pair) -> None:
    boundary = staging().boundary
    contexts = [
        c for c in function_contexts(staging()) if allows(boundary, pair.action, pair.own, c)
    ]

    assert contexts, "no role of the staging stack could use this statement"
    if pair.pattern == "*":
        assert pair.sid in ACCOUNT_WIDE
        return
    for context in function_contexts(staging()) + function_contexts(prod()):
        assert not allows(boundary, pair.action, pair.other, context)


def test_the_reasons_for_shared_resources_are_each_needed() -> None:
    resources = {p.pattern for p in deploy_pairs() + boundary_pairs()}
    sids = {p.sid for p in deploy_pairs() + boundary_pairs() if p.pattern == "*"}

    for pattern in SHARED:
        assert any(re.search(f"({pattern})$", r) for r in resources), pattern
    assert sids == set(ACCOUNT_WIDE)


# ---- The resources the staging stack really holds, named as CloudFormation names them ----


def arn_of(kind: str, properties: dict[str, Any], stack: str, generated: str) -> str | None:
    """The ARN CloudFormation gives a resource of `kind` with these properties, or None for the
    kinds whose ARN names no stack (API Gateway's ids, CloudFront's policies, versions)."""
    where = f"{REGION}:{ACCOUNT}"

    def named(key: str) -> str:
        return properties[key]["Fn::Sub"].replace("${AWS::StackName}", stack)

    match kind:
        case "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{where}:secret:{named('Name')}-AbCdEf"
        case "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{where}:table/{generated}"
        case "AWS::Lambda::Function":
            return f"arn:aws:lambda:{where}:function:{named('FunctionName')}"
        case "AWS::Lambda::LayerVersion":
            return f"arn:aws:lambda:{where}:layer:{named('LayerName')}:1"
        case "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{where}:log-group:{named('LogGroupName')}"
        case "AWS::CloudWatch::Alarm":
            return f"arn:aws:cloudwatch:{where}:alarm:{named('AlarmName')}"
        case "AWS::CloudWatch::Dashboard":
            return f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/{named('DashboardName')}"
        case "AWS::SNS::Topic":
            return f"arn:aws:sns:{where}:{named('TopicName')}"
        case "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role{named('Path')}{generated}"
        case "AWS::S3::Bucket":
            return f"arn:aws:s3:::{generated.lower()}"
        case "AWS::CodeDeploy::Application":
            return f"arn:aws:codedeploy:{where}:application:{generated}"
        case "AWS::CodeDeploy::DeploymentGroup":
            application = f"{stack}-ServerlessDeploymentApplication-1A2B3C4D5E6F"
            return f"arn:aws:codedeploy:{where}:deploymentgroup:{application}/{generated}"
        case "AWS::WAFv2::WebACL":
            return f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/{named('Name')}/0123-abcd"
        case "AWS::CloudFront::Distribution":  # told apart by its `environment` tag
            return f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1A2B3C4D5E6F7"
    return None


def app_resource_arns(stack: str) -> dict[str, str]:
    """The ARN of each resource of the app stack (every feature on) deployed as `stack`; an
    unnamed resource gets `<stack>-<LogicalId>-<suffix>`, as CloudFormation names it."""
    template = render_template(
        load_template(),
        EnableWaf="true",
        AlarmEmail="ops@example.com",
        PermissionsBoundaryName="boundary",
        CreateRoomReservedConcurrency="5",
    )
    arns = {
        name: arn_of(r["Type"], r.get("Properties", {}), stack, f"{stack}-{name}-1A2B3C4D5E6F")
        for name, r in template["Resources"].items()
    }
    arns["Stack"] = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/0a1b-2c3d"
    return {name: arn for name, arn in arns.items() if arn is not None}


def test_every_resource_of_the_staging_stack_is_within_reach_and_prods_is_not() -> None:
    """For every action the staging role may take on a resource the staging stack holds, the
    same action on prod's resource of that name is refused."""
    role = staging().deploy_policy
    scoped = {"Statement": [s for s in role["Statement"] if s["Resource"] != "*"]}
    actions = {
        a for s in scoped["Statement"] if s["Effect"] == "Allow" for a in as_list(s["Action"])
    }
    own, other = app_resource_arns(staging().stack), app_resource_arns(prod().stack)
    checked = 0

    for name, arn in own.items():
        allowed = [a for a in sorted(actions) if allows(scoped, a, arn, deploy_context(staging()))]
        assert allowed, f"the staging role can do nothing to {name} ({arn})"
        for action in allowed:
            for context in (deploy_context(prod()), deploy_context(staging(), prod())):
                assert not allows(role, action, other[name], context), (name, action)
            checked += 1
    assert checked > 150


# ---- The API object and the distribution: walled by name and by tag ----


def test_the_api_of_another_stack_is_refused_by_its_name() -> None:
    policy = staging().deploy_policy
    api = f"arn:aws:apigateway:{REGION}::/apis/a1b2c3d4e5"

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        action = f"apigateway:{method}"
        assert allows(policy, action, api, {"apigateway:Resource/ApiName": staging().stack})
        assert not allows(policy, action, api, {"apigateway:Resource/ApiName": prod().stack})
    creating = {"apigateway:Request/ApiName": prod().stack}
    assert not allows(policy, "apigateway:POST", f"arn:aws:apigateway:{REGION}::/apis", creating)


def test_prods_distribution_cannot_be_retagged_as_staging() -> None:
    policy = staging().deploy_policy
    distribution = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E1A2B3C4D5E6F7"
    retag = {"aws:RequestTag/environment": "staging", "aws:ResourceTag/environment": "prod"}

    assert allows(
        policy, "cloudfront:TagResource", distribution, {"aws:RequestTag/environment": "staging"}
    )
    assert not allows(policy, "cloudfront:TagResource", distribution, retag)
    assert not allows(policy, "cloudfront:UntagResource", distribution, retag)


def test_staging_cannot_create_a_role_with_prods_boundary() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/{staging().stack}/daily-rooms-staging-X-1A2B"
    with_prods = {**deploy_context(staging()), "iam:PermissionsBoundary": prod().boundary_arn}

    assert allows(staging().deploy_policy, "iam:CreateRole", role, deploy_context(staging()))
    assert not allows(staging().deploy_policy, "iam:CreateRole", role, with_prods)
    assert not allows(staging().deploy_policy, "iam:CreateRole", role, {})


# ---- Who may assume the role ----


def github(subject: str, audience: str = "sts.amazonaws.com") -> dict[str, str]:
    return {
        "token.actions.githubusercontent.com:sub": subject,
        "token.actions.githubusercontent.com:aud": audience,
    }


@pytest.mark.parametrize(
    "subject",
    [
        f"repo:{REPOSITORY}:environment:prod",
        f"repo:{REPOSITORY}:ref:refs/heads/main",
        f"repo:{REPOSITORY}:pull_request",
        f"repo:{REPOSITORY}:environment:staging2",
        "repo:octo-org/fork-of-daily-rooms:environment:staging",
        f"repo:{REPOSITORY}:environment:staging:extra",
    ],
)
def test_stagings_role_refuses_every_other_github_subject(subject: str) -> None:
    federated = {"Federated": OIDC}
    web_identity = "sts:AssumeRoleWithWebIdentity"

    assert trusts(
        staging().trust, federated, web_identity, github(f"repo:{REPOSITORY}:environment:staging")
    )
    assert not trusts(staging().trust, federated, web_identity, github(subject))


def test_each_github_environment_assumes_only_its_own_role() -> None:
    federated, web_identity = {"Federated": OIDC}, "sts:AssumeRoleWithWebIdentity"
    for mine, other in ((staging(), prod()), (prod(), staging())):
        own = github(f"repo:{REPOSITORY}:environment:{mine.environment}")
        assert trusts(mine.trust, federated, web_identity, own)
        assert not trusts(other.trust, federated, web_identity, own)
        assert not trusts(
            mine.trust,
            federated,
            web_identity,
            github(own["token.actions.githubusercontent.com:sub"], "other"),
        )
        root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
        assert not trusts(mine.trust, root, "sts:AssumeRole", {})  # GitHub's only


def test_without_a_repository_only_this_account_may_assume_the_role() -> None:
    laptop = render_bootstrap("staging")

    assert trusts(laptop.trust, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "sts:AssumeRole", {})
    assert not trusts(laptop.trust, {"AWS": "arn:aws:iam::210987654321:root"}, "sts:AssumeRole", {})
    subject = github("repo:any/repo:environment:staging")
    assert not trusts(laptop.trust, {"Federated": OIDC}, "sts:AssumeRoleWithWebIdentity", subject)
