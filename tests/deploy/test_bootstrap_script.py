"""scripts/bootstrap.py (`make bootstrap ENV=... [GITHUB=owner/repo]`) against moto's server.

moto's CloudFormation creates the IAM roles, managed policies and S3 buckets of
bootstrap/template.yaml, but skips AWS::IAM::OIDCProvider and AWS::S3::BucketPolicy and keeps
only a bucket's name and encryption; an update changes a role's description, not its trust
policy. What those resources hold is checked on the rendered template (test_bootstrap_template.py,
test_environment_walls.py) and by cfn-lint. Where a test needs the OIDC provider the first
stack made, it creates it through IAM, as CloudFormation would have. moto never leaves a stack in
ROLLBACK_COMPLETE and treats a rerun with the same parameters as a change; those answers of
CloudFormation (its API reference) come from botocore's Stubber, on the real client.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from scripts import bootstrap as bootstrap_script  # the name `bootstrap` is the fixture
from tests.deploy.bootstrap_render import render_bootstrap
from tests.deploy.conftest import ROOT, FakeAws, Result, assert_one_line_failure

ACCOUNT = "123456789012"  # moto's
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


@dataclass
class Bootstrapper:
    """Runs scripts/bootstrap.py as a user does, with fake credentials and moto as the endpoint."""

    env: dict[str, str]
    aws: FakeAws

    def __call__(self, *args: str, **env: str | None) -> Result:
        environment = {k: v for k, v in {**self.env, **env}.items() if v is not None}
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "bootstrap.py"), *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def client(self, service: str, region: str = "eu-west-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.aws.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def parameters(self, env: str) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(
            StackName=f"bootstrap-daily-rooms-{env}"
        )["Stacks"][0]
        return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}

    def trust(self, env: str) -> dict[str, Any]:
        role = self.client("iam").get_role(RoleName=f"deploy-daily-rooms-{env}")["Role"]
        document = role["AssumeRolePolicyDocument"]
        return json.loads(document) if isinstance(document, str) else document


@pytest.fixture
def bootstrap(tmp_path: Path, aws: FakeAws) -> Bootstrapper:
    """Only AWS_REGION names the region, as README's `export AWS_REGION=...` leaves a laptop."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-west-1",
    }
    return Bootstrapper(env, aws)


def test_first_bootstrap_makes_the_environments_boundary_role_and_bucket(
    bootstrap: Bootstrapper,
) -> None:
    result = bootstrap("--env", "staging")

    assert result.returncode == 0, result.output
    iam = bootstrap.client("iam")
    role = f"arn:aws:iam::{ACCOUNT}:role/deploy-daily-rooms-staging"
    attached = iam.list_attached_role_policies(RoleName="deploy-daily-rooms-staging")
    assert sorted(p["PolicyName"] for p in attached["AttachedPolicies"]) == [
        "deploy-daily-rooms-staging-data",
        "deploy-daily-rooms-staging-edge",
        "deploy-daily-rooms-staging-stack",
    ]
    boundary = iam.get_policy(
        PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/boundary-daily-rooms-staging"
    )
    version = iam.get_policy_version(
        PolicyArn=boundary["Policy"]["Arn"], VersionId=boundary["Policy"]["DefaultVersionId"]
    )["PolicyVersion"]["Document"]
    document = json.loads(version) if isinstance(version, str) else version
    assert document == render_bootstrap("staging", account=ACCOUNT).boundary
    assert bootstrap.trust("staging")["Statement"] == [
        {
            "Sid": "ThisAccountOnly",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ]
    buckets = [b["Name"] for b in bootstrap.client("s3").list_buckets()["Buckets"]]
    assert f"artifacts-daily-rooms-staging-{ACCOUNT}" in buckets
    assert bootstrap.parameters("staging")["AppStackName"] == "daily-rooms-staging"
    assert f"role_arn = {role}" in result.stdout  # the profile to add to ~/.aws/config
    assert "AWS_PROFILE=daily-rooms-staging make deploy ENV=staging" in result.stdout


def test_the_region_is_aws_region_then_aws_default_region_and_region_beats_both(
    bootstrap: Bootstrapper,
) -> None:
    assert bootstrap("--env", "staging", AWS_REGION="eu-west-2").returncode == 0
    assert (
        bootstrap("--env", "prod", AWS_REGION=None, AWS_DEFAULT_REGION="eu-north-1").returncode == 0
    )
    ci = bootstrap("--env", "ci", "--region", "ap-southeast-2", AWS_DEFAULT_REGION="eu-north-1")
    assert ci.returncode == 0, ci.output

    for env, region in (("staging", "eu-west-2"), ("prod", "eu-north-1"), ("ci", "ap-southeast-2")):
        stacks = bootstrap.client("cloudformation", region).describe_stacks()["Stacks"]
        assert [s["StackName"] for s in stacks] == [f"bootstrap-daily-rooms-{env}"], region
    assert not bootstrap.client("cloudformation", "us-east-1").describe_stacks()["Stacks"]


def test_without_a_region_it_fails_in_one_line(bootstrap: Bootstrapper) -> None:
    result = bootstrap("--env", "staging", AWS_REGION=None)

    assert_one_line_failure(result, "no AWS region", "--region", prefix="bootstrap failed: ")


def test_without_credentials_it_fails_in_one_line(bootstrap: Bootstrapper) -> None:
    result = bootstrap("--env", "staging", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)

    assert_one_line_failure(result, "no AWS credentials", prefix="bootstrap failed: ")


def test_an_aws_refusal_is_one_line(bootstrap: Bootstrapper) -> None:
    """A bucket name another account holds, or any refusal of AWS: its code and message."""
    bootstrap.client("s3").create_bucket(
        Bucket=f"artifacts-daily-rooms-staging-{ACCOUNT}",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    result = bootstrap("--env", "staging")

    assert_one_line_failure(result, "BucketAlreadyExists", prefix="bootstrap failed: ")


@pytest.mark.parametrize(
    "args", [["--env", "Staging"], ["--env", "a-b"], ["--env", "staging", "--github", "octo"]]
)
def test_a_malformed_environment_or_repository_is_refused_before_any_call(
    bootstrap: Bootstrapper, args: list[str]
) -> None:
    result = bootstrap(*args)

    assert result.returncode == 2
    assert "Traceback" not in result.output
    assert not bootstrap.client("cloudformation").describe_stacks()["Stacks"]


def test_github_trust_names_the_environment_and_the_first_creates_the_provider(
    bootstrap: Bootstrapper,
) -> None:
    staging = bootstrap("--env", "staging", "--github", "octo-org/daily-rooms")
    assert staging.returncode == 0, staging.output
    assert bootstrap.parameters("staging")["CreateGitHubOidcProvider"] == "true"
    assert "this stack creates it" in staging.stdout
    statement = bootstrap.trust("staging")["Statement"][0]  # its Principal is the skipped
    assert statement["Condition"]["StringEquals"] == {  # provider's Ref: see the template test
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:octo-org/daily-rooms:environment:staging",
    }
    assert "variable AWS_DEPLOY_ROLE_ARN = arn:aws:iam::" in staging.stdout
    # What CloudFormation would have made (moto skips the resource):
    bootstrap.client("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"]
    )

    prod = bootstrap("--env", "prod", "--github", "octo-org/daily-rooms")
    again = bootstrap("--env", "staging", "--github", "octo-org/daily-rooms")

    assert prod.returncode == 0, prod.output
    assert again.returncode == 0, again.output
    assert bootstrap.parameters("prod")["CreateGitHubOidcProvider"] == "false"  # uses it
    assert bootstrap.parameters("staging")["CreateGitHubOidcProvider"] == "true"  # keeps it
    [statement] = bootstrap.trust("prod")["Statement"]
    assert statement["Principal"] == {"Federated": OIDC}
    subject = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert subject == "repo:octo-org/daily-rooms:environment:prod"


def test_a_rerun_keeps_the_trust_and_no_github_returns_it_to_the_account(
    bootstrap: Bootstrapper,
) -> None:
    bootstrap.client("iam").create_open_id_connect_provider(  # the account has one already
        Url="https://token.actions.githubusercontent.com", ClientIDList=["sts.amazonaws.com"]
    )
    assert bootstrap("--env", "staging", "--github", "octo-org/daily-rooms").returncode == 0

    kept = bootstrap("--env", "staging")
    assert kept.returncode == 0, kept.output
    assert bootstrap.parameters("staging")["GitHubRepository"] == "octo-org/daily-rooms"
    assert bootstrap.parameters("staging")["CreateGitHubOidcProvider"] == "false"
    assert bootstrap.trust("staging")["Statement"][0]["Principal"] == {"Federated": OIDC}

    laptop = bootstrap("--env", "staging", "--no-github")
    assert laptop.returncode == 0, laptop.output
    assert bootstrap.parameters("staging")["GitHubRepository"] == ""  # the trust it gives:
    assert f"assumable by:       arn:aws:iam::{ACCOUNT}:root" in laptop.stdout  # walls test


def test_the_role_governs_the_stack_samconfig_names_for_the_environment() -> None:
    assert bootstrap_script.app_stack_name("staging") == "daily-rooms-staging"
    assert bootstrap_script.app_stack_name("ci") == "daily-rooms-ci"
    assert bootstrap_script.app_stack_name("qa") == "daily-rooms-qa"  # not in samconfig.toml


def test_the_template_fits_in_the_request() -> None:
    """bootstrap.py sends the template inline: CloudFormation takes at most 51,200 bytes."""
    assert len((ROOT / "bootstrap" / "template.yaml").read_bytes()) <= 51_200


# ---- CloudFormation's answers moto does not give, from botocore's Stubber ----


def stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


def stack(name: str, status: str) -> dict[str, Any]:
    stack_id = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/{name}/0a1b"
    return {
        "StackName": name,
        "StackId": stack_id,
        "StackStatus": status,
        "CreationTime": "2026-01-01T00:00:00Z",
    }


PARAMETERS = {"Environment": "staging", "AppStackName": "daily-rooms-staging"}
NAME = "bootstrap-daily-rooms-staging"


def test_a_stack_left_in_rollback_complete_is_deleted_then_created_again() -> None:
    """CloudFormation refuses to update a stack whose first create failed; it can be deleted."""
    client, stub = stubbed()
    failed = stack(NAME, "ROLLBACK_COMPLETE")
    stub.add_response("describe_stacks", {"Stacks": [failed]}, {"StackName": NAME})
    stub.add_response("delete_stack", {}, {"StackName": failed["StackId"]})
    stub.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {failed['StackId']} does not exist"
    )
    stub.add_response("create_stack", {"StackId": failed["StackId"]})
    stub.add_response("describe_stacks", {"Stacks": [stack(NAME, "CREATE_COMPLETE")]})

    with stub:
        assert bootstrap_script.deploy_stack(client, NAME, PARAMETERS, "staging") == "created"
    stub.assert_no_pending_responses()


def test_a_rerun_with_nothing_to_change_is_not_an_error() -> None:
    client, stub = stubbed()
    stub.add_response("describe_stacks", {"Stacks": [stack(NAME, "CREATE_COMPLETE")]})
    stub.add_client_error("update_stack", "ValidationError", "No updates are to be performed.")

    with stub:
        assert bootstrap_script.deploy_stack(client, NAME, PARAMETERS, "staging") == "unchanged"


def test_a_failed_create_names_the_resource_and_its_reason() -> None:
    """With OnFailure=DELETE the stack is gone; its events still tell why."""
    client, stub = stubbed()
    stub.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist"
    )
    created = stack(NAME, "DELETE_COMPLETE")
    stub.add_response("create_stack", {"StackId": created["StackId"]})
    stub.add_response("describe_stacks", {"Stacks": [created]})
    event = {
        "StackId": created["StackId"],
        "EventId": "1",
        "StackName": NAME,
        "Timestamp": "2026-01-01T00:00:00Z",
        "LogicalResourceId": "DeployRole",
        "ResourceStatus": "CREATE_FAILED",
        "ResourceStatusReason": "Role with name deploy-daily-rooms-staging already exists.",
    }
    stub.add_response("describe_stack_events", {"StackEvents": [event]})

    with stub, pytest.raises(bootstrap_script.BootstrapError, match="DeployRole: Role with name"):
        bootstrap_script.deploy_stack(client, NAME, PARAMETERS, "staging")
