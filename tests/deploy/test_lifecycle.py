"""An environment's life through deploy.py: first deploy, redeploy, a failed first deploy and the
next one, dry runs of a stack that does not exist, the region, names and parameters it is given,
and `--destroy`. CloudFormation is its double, `sam` the SAM CLI double, the rest moto."""

from __future__ import annotations

import copy
import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from localdev.local_stack import LocalStack
from scripts.deploy_settings import ARTIFACT_BUCKET, longest_stack_name
from tests.deploy.conftest import (
    REGION,
    ROOT,
    Deployer,
    FakeAws,
    LiveSite,
    assert_one_line_failure,
)
from tests.deploy.template_resources import NAME_LIMITS, resolve_sub, stack_names
from tests.template.conftest import load_template

STAGING = "daily-rooms-staging"
SITE_KEYS = {"index.html", "app.js", "styles.css", "img/logo.svg"}
FUNCTION_FAILS = (
    'Resource handler returned message: "The role defined for the function cannot be assumed '
    'by Lambda."'
)


@pytest.fixture
def account(aws: FakeAws, live_site: LiveSite, fresh_stack: LocalStack) -> FakeAws:
    """An AWS account with no stack yet; stacks made in it serve the local site."""
    assert fresh_stack.daily is not None
    aws.use_site(live_site.site_url, live_site.api_url, fresh_stack.daily.base_url)
    return aws


def outputs(aws: FakeAws, name: str = STAGING, region: str = REGION) -> dict[str, str]:
    stack = aws.stack(name, region)
    assert stack is not None
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def bucket_keys(aws: FakeAws, bucket: str, region: str = REGION) -> set[str]:
    listing = aws.client("s3", region).list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


def leave_failed_create(deploy: Deployer, aws: FakeAws) -> None:
    """A stack in ROLLBACK_COMPLETE, as `sam deploy` without on_failure leaves a failed create."""
    aws.resources.failures["CreateRoomFunction"] = FUNCTION_FAILS
    failed = deploy.sam(
        "deploy",
        "--config-env",
        "staging",
        "--region",
        REGION,
        "--resolve-s3",
        "--on-failure",
        "ROLLBACK",
    )
    assert failed.returncode == 1, failed.output
    stack = aws.stack(STAGING)
    assert stack is not None
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "[CreateRoomFunction]" in stack["StackStatusReason"]


# ---- deploying ----


def test_a_first_deploy_creates_the_stack_then_publishes_stores_the_key_and_smokes(
    deploy: Deployer, account: FakeAws, site: Path, api_key: str
) -> None:
    result = deploy("--env", "staging", "--site", str(site))

    assert result.returncode == 0, result.output
    assert f"stack {STAGING} does not exist in {REGION} yet: sam deploy creates it" in result.stdout
    stack = account.stack(STAGING)
    assert stack is not None
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    created = outputs(account)
    assert bucket_keys(account, created["SiteBucketName"]) == SITE_KEYS
    secret = account.client("secretsmanager").get_secret_value(
        SecretId=created["DailyApiKeySecretArn"], VersionStage="AWSCURRENT"
    )
    assert json.loads(secret["SecretString"])["apiKey"] == api_key
    lines = result.stdout.splitlines()
    stored = next(i for i, line in enumerate(lines) if line.startswith("stored DAILY_API_KEY"))
    smoked = [i for i, line in enumerate(lines) if line.startswith("smoke: ")]
    assert len(smoked) == 3
    assert stored < smoked[0]  # the health check finds the key a first deploy just stored
    assert deploy.sam_calls() == [
        f"build --config-env staging --region {REGION}",
        f"deploy --config-env staging --region {REGION} --resolve-s3",
    ]


def test_a_bootstrapped_environment_uploads_its_build_to_the_bootstrap_bucket(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    # The deploy role may upload only to this bucket; SAM's managed one needs rights it lacks.
    owner = account.client("sts").get_caller_identity()["Account"]
    bucket = f"artifacts-daily-rooms-staging-{owner}"
    account.client("s3").create_bucket(Bucket=bucket)

    result = deploy("--env", "staging", "--site", str(site), "--no-smoke")

    assert result.returncode == 0, result.output  # SAM refuses --s3-bucket with resolve_s3 set
    assert deploy.sam_calls()[-1] == (
        f"deploy --config-env staging --region {REGION} --s3-bucket {bucket}"
    )
    created = account.cloudformation.stack(REGION, STAGING)
    assert created is not None
    assert created.template.startswith(f"https://s3.{REGION}.amazonaws.com/{bucket}/{STAGING}/")


def test_the_bootstrap_bucket_is_the_one_deploy_looks_for() -> None:
    bucket = load_template(ROOT / "bootstrap" / "template.yaml")["Resources"]["ArtifactBucket"]
    name = bucket["Properties"]["BucketName"]["Fn::Sub"]
    assert name == ARTIFACT_BUCKET.format(env="${Environment}", account="${AWS::AccountId}")


def test_a_redeploy_without_changes_succeeds(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    assert deploy("--env", "staging", "--site", str(site), "--no-smoke").returncode == 0

    again = deploy("--env", "staging", "--site", str(site), "--no-smoke")

    assert again.returncode == 0, again.output
    assert f"No changes to deploy. Stack {STAGING} is up to date" in again.stdout  # sam's words
    assert "4 file(s) unchanged" in again.stdout
    assert "smoke: " not in again.stdout


def test_a_failed_first_deploy_leaves_no_stack_and_the_next_deploy_creates_it(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    account.resources.failures["CreateRoomFunction"] = FUNCTION_FAILS

    failed = deploy("--env", "staging", "--site", str(site))

    assert failed.returncode == 1
    assert "sam deploy failed (exit code 1)" in failed.stderr
    assert f"Stack {STAGING} failed to create/update correctly, deleting stack" in failed.stdout
    assert account.stack(STAGING) is None  # samconfig's on_failure = "DELETE"

    fixed = deploy("--env", "staging", "--site", str(site))

    assert fixed.returncode == 0, fixed.output
    stack = account.stack(STAGING)
    assert stack is not None
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_a_stack_left_in_rollback_complete_is_deleted_then_created_again(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    leave_failed_create(deploy, account)
    by_hand = deploy.sam("deploy", "--config-env", "staging", "--region", REGION, "--resolve-s3")
    assert by_hand.returncode == 1  # what sam alone does with it: an update, refused
    assert "is in ROLLBACK_COMPLETE state and can not be updated" in by_hand.stderr

    result = deploy("--env", "staging", "--site", str(site))

    assert result.returncode == 0, result.output
    said = [line for line in result.stdout.splitlines() if "ROLLBACK_COMPLETE" in line]
    assert said == [
        f"stack {STAGING} is in ROLLBACK_COMPLETE (its first deploy failed, so CloudFormation "
        "can only delete it, and a failed create keeps no resources): deleting it, then "
        "creating it again"
    ]
    stack = account.stack(STAGING)
    assert stack is not None
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert bucket_keys(account, outputs(account)["SiteBucketName"]) == SITE_KEYS


def test_dry_run_of_a_new_environment_plans_the_create_and_changes_nothing(
    deploy: Deployer, account: FakeAws, site: Path, api_key: str
) -> None:
    result = deploy("--env", "staging", "--site", str(site), "--dry-run")

    assert result.returncode == 0, result.output
    lines = result.stdout.splitlines()
    for line in (
        f"Dry run: stack {STAGING} (env staging) in {REGION}",
        f"stack {STAGING} does not exist in {REGION} yet: sam deploy creates it",
        f"would run: sam build --config-env staging --region {REGION}",
        f"would run: sam deploy --config-env staging --region {REGION} --resolve-s3",
        "would upload index.html (new; text/html; charset=utf-8; no-cache)",
        "would store DAILY_API_KEY in the new stack's key secret",
        "would smoke-test the new site",
    ):
        assert line in lines
    assert lines.index(
        "would upload app.js (new; text/javascript; charset=utf-8; public, max-age=300)"
    ) < lines.index("would upload index.html (new; text/html; charset=utf-8; no-cache)")
    assert result.stderr == ""
    assert deploy.sam_calls() == []
    assert account.cloudformation.stacks == {}
    assert api_key not in result.output


def test_dry_run_leaves_a_stack_in_rollback_complete_alone(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    leave_failed_create(deploy, account)

    result = deploy("--env", "staging", "--site", str(site), "--dry-run")

    assert result.returncode == 0, result.output
    assert ": would delete it, then creating it again" in result.stdout
    stack = account.stack(STAGING)
    assert stack is not None
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"


def test_no_smoke_leaves_the_smoke_test_to_a_later_step(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    deployed = deploy("--env", "staging", "--site", str(site), "--no-smoke", DAILY_API_KEY=None)
    smoked = deploy("--env", "staging", "--smoke")

    assert deployed.returncode == 0, deployed.output
    assert "smoke: " not in deployed.stdout
    assert smoked.returncode == 0, smoked.output
    assert len([line for line in smoked.stdout.splitlines() if line.startswith("smoke: ")]) == 3


# ---- the region ----


def test_aws_region_alone_reaches_sam_and_boto3(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    result = deploy(
        "--env", "staging", "--site", str(site), AWS_REGION="eu-west-1", AWS_DEFAULT_REGION=None
    )

    assert result.returncode == 0, result.output
    assert account.stack(STAGING, "eu-west-1") is not None
    assert account.stack(STAGING, REGION) is None
    bucket = outputs(account, region="eu-west-1")["SiteBucketName"]
    assert bucket_keys(account, bucket, "eu-west-1") == SITE_KEYS
    assert all(" --region eu-west-1" in call for call in deploy.sam_calls())


def test_sam_alone_does_not_read_aws_region(deploy: Deployer, account: FakeAws) -> None:
    """Why deploy.py passes --region: botocore, and so SAM CLI, reads only AWS_DEFAULT_REGION."""
    result = deploy.sam(
        "deploy", "--config-env", "staging", AWS_REGION="eu-west-1", AWS_DEFAULT_REGION=None
    )

    assert result.returncode == 1
    assert "Unable to resolve a region" in result.stderr
    assert account.cloudformation.stacks == {}


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": None}, "eu-west-1"),
        ([], {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2"}, "eu-west-1"),
        ([], {"AWS_DEFAULT_REGION": "us-east-2"}, "us-east-2"),
        ([], {"AWS_PROFILE": "demo", "AWS_DEFAULT_REGION": None}, "ap-southeast-2"),
        (["--region", "ca-central-1"], {"AWS_REGION": "eu-west-1"}, "ca-central-1"),
    ],
)
def test_the_region_is_the_flag_then_aws_region_then_aws_default_region_then_the_profiles(
    deploy: Deployer,
    account: FakeAws,
    site: Path,
    tmp_path: Path,
    flags: list[str],
    env: dict[str, str | None],
    expected: str,
) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[profile demo]\nregion = ap-southeast-2\n")

    result = deploy(
        "--env", "staging", "--site", str(site), "--dry-run", *flags,
        AWS_CONFIG_FILE=str(config), **env,
    )  # fmt: skip

    assert result.returncode == 0, result.output
    assert f"would run: sam deploy --config-env staging --region {expected}" in result.stdout
    assert f"does not exist in {expected} yet" in result.stdout


def test_no_region_at_all_is_one_line_before_any_sam(deploy: Deployer, account: FakeAws) -> None:
    result = deploy("--env", "staging", AWS_DEFAULT_REGION=None)

    assert_one_line_failure(result, "no AWS region", "AWS_REGION")
    assert deploy.sam_calls() == []


# ---- names and parameters ----


def samconfig_with(tmp_path: Path, env: str, stack: str) -> Path:
    """samconfig.toml plus an environment `env` whose stack is `stack`."""
    path = tmp_path / "samconfig.toml"
    path.write_text(
        (ROOT / "samconfig.toml").read_text()
        + f'\n[{env}.global.parameters]\nstack_name = "{stack}"\n\n'
        f'[{env}.deploy.parameters]\ncapabilities = "CAPABILITY_IAM"\non_failure = "DELETE"\n'
        "confirm_changeset = false\nresolve_s3 = true\n"
    )
    return path


@pytest.mark.parametrize(
    ("region", "length", "refused_resource", "named"),
    [
        ("us-east-1", 38, "PreTrafficHookFunction", "CodeDeployHook_"),
        ("ap-southeast-2", 45, "SiteOriginAccessControl", "-ap-southeast-2-site"),
    ],
)
def test_a_stack_name_too_long_for_the_template_is_refused_before_sam_runs(
    deploy: Deployer,
    account: FakeAws,
    site: Path,
    tmp_path: Path,
    region: str,
    length: int,
    refused_resource: str,
    named: str,
) -> None:
    stack = "daily-rooms-" + "x" * (length - len("daily-rooms-"))
    samconfig = samconfig_with(tmp_path, "longer", stack)
    by_hand = deploy.sam(
        "deploy", "--config-env", "longer", "--config-file", str(samconfig), "--region", region,
        "--on-failure", "ROLLBACK",
    )  # fmt: skip
    failed = account.stack(stack, region)
    assert by_hand.returncode == 1  # what CloudFormation does with it: the create fails
    assert failed is not None
    assert f"[{refused_resource}]" in failed["StackStatusReason"]
    account.client("cloudformation", region).delete_stack(StackName=stack)
    calls = len(deploy.sam_calls())

    result = deploy(
        "--env", "longer", "--config-file", str(samconfig), "--site", str(site),
        "--region", region,
    )  # fmt: skip

    assert_one_line_failure(result, f"{stack!r} has {length} characters", named)
    assert f"at most 37 fit in {region}" in result.stderr
    assert len(deploy.sam_calls()) == calls  # sam never ran
    assert account.stack(stack, region) is None


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "ap-southeast-7"])
def test_the_stack_name_limit_holds_for_every_name_the_template_makes(region: str) -> None:
    template = load_template()
    names = [
        (resource["Type"], path, value)
        for resource in template["Resources"].values()
        for path, value in stack_names(resource)
    ]
    assert {(kind, path) for kind, path, _ in names} <= set(NAME_LIMITS)  # a limit for each

    def fits(length: int) -> bool:
        stack = type("Stack", (), {"name": "s" * length, "region": region})()
        return all(
            len(resolve_sub(value, stack) or "") <= NAME_LIMITS[(kind, path)]
            for kind, path, value in names
        )

    longest = max(length for length in range(1, 129) if fits(length))
    assert longest_stack_name(region) == longest == 37


@pytest.mark.parametrize(
    "env", ["Staging", "stag_ing", "-staging", "staging-", "st--aging", "e" * 26]
)
def test_environment_names_are_checked_first(deploy: Deployer, account: FakeAws, env: str) -> None:
    result = deploy(f"--env={env}")

    assert_one_line_failure(result, f"environment name {env!r} is not allowed", "lowercase")
    assert deploy.sam_calls() == []


def test_parameter_overrides_are_merged_with_samconfigs(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    samconfig = dict(
        item.split("=", 1)
        for item in config["staging"]["deploy"]["parameters"]["parameter_overrides"].split()
    )
    assert samconfig["MaxParticipants"] != "8"

    result = deploy(
        "--env", "staging", "--site", str(site), "--no-smoke",
        "--parameter-overrides", "MaxParticipants=8 AlarmEmail=ops@example.com",
    )  # fmt: skip

    assert result.returncode == 0, result.output
    expected = {**samconfig, "MaxParticipants": "8", "AlarmEmail": "ops@example.com"}
    [sam_deploy] = [run["argv"] for run in deploy.sam_runs() if run["argv"][0] == "deploy"]
    given = sam_deploy[sam_deploy.index("--parameter-overrides") + 1 :]
    assert dict(item.split("=", 1) for item in given) == expected
    stack = account.stack(STAGING)
    assert stack is not None
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert {key: parameters[key] for key in expected} == expected


def test_an_unknown_parameter_is_refused_before_sam_runs(
    deploy: Deployer, account: FakeAws
) -> None:
    result = deploy("--env", "staging", "--parameter-overrides", "MaxParticipant=8")

    assert_one_line_failure(result, "MaxParticipant: no such parameter in template.yaml")
    assert deploy.sam_calls() == []


def test_make_passes_params_and_dry_run_on() -> None:
    done = subprocess.run(
        ["make", "-n", "deploy", "destroy", "ENV=staging", "DRY_RUN=1",
         "PARAMS=MaxParticipants=8 LogLevel=DEBUG"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    runs = [line for line in done.stdout.splitlines() if "scripts/deploy.py" in line]
    assert runs == [
        ".venv/bin/python scripts/deploy.py --env staging --parameter-overrides "
        "'MaxParticipants=8 LogLevel=DEBUG' --dry-run",
        ".venv/bin/python scripts/deploy.py --env staging --destroy --dry-run",
    ]


# ---- destroy ----


def versioned_site(aws: FakeAws, bucket: str) -> int:
    """Turn versioning on and leave old versions and a delete marker; how many entries there are."""
    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=bucket, Key="app.js", Body=body)
    s3.put_object(Bucket=bucket, Key="old.js", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="old.js")  # a delete marker over its version
    listing = s3.list_object_versions(Bucket=bucket)
    return len(listing.get("Versions", [])) + len(listing.get("DeleteMarkers", []))


def test_destroy_empties_every_version_deletes_the_stack_and_says_what_is_left(
    deploy: Deployer, account: FakeAws, site: Path
) -> None:
    assert deploy("--env", "staging", "--site", str(site), "--no-smoke").returncode == 0
    created = outputs(account)
    entries = versioned_site(account, created["SiteBucketName"])
    assert entries > len(SITE_KEYS)

    result = deploy("--env", "staging", "--destroy")

    assert result.returncode == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        f"emptying bucket {created['SiteBucketName']}: {entries} object version(s) and delete "
        "marker(s)"
    ) in lines
    assert f"stack {STAGING} deleted" in lines
    assert (
        "deleted with the stack: 3 log group(s), 3 secret(s), 1 table(s), 1 bucket(s) (the "
        "secrets at once, without a recovery window)"
    ) in lines
    assert not any(line.startswith("kept: ") for line in lines)
    assert "make bootstrap" in lines[-1]
    assert account.stack(STAGING) is None
    assert account.client("s3").list_buckets()["Buckets"] == []
    assert account.client("secretsmanager").list_secrets()["SecretList"] == []

    again = deploy("--env", "staging", "--site", str(site), "--no-smoke")

    assert again.returncode == 0, again.output  # the names are free for the next deploy


def test_destroy_fails_with_the_keys_the_bucket_refuses_to_delete(
    deploy: Deployer, account: FakeAws
) -> None:
    created = account.create_stack(
        account.resources.site_url,
        account.resources.api_url,
        account.resources.daily_api_url,
        name=STAGING,
    )
    bucket = created["SiteBucketName"]
    account.client("s3").put_object(Bucket=bucket, Key="kept.js", Body=b"x")
    refuse = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                "Resource": f"arn:aws:s3:::{bucket}/kept.js",
            }
        ],
    }
    account.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(refuse))

    result = deploy("--env", "staging", "--destroy")

    assert_one_line_failure(
        result, bucket, "refused to delete 1 object(s)", "kept.js", prefix="teardown failed: "
    )
    assert "AccessDenied" in result.stderr
    stack = account.stack(STAGING)
    assert stack is not None  # not deleted: CloudFormation would fail on the bucket
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_destroy_says_what_a_deletion_policy_keeps(deploy: Deployer, account: FakeAws) -> None:
    template = copy.deepcopy(account.resources.template)
    template["Resources"]["CreateRoomLogGroup"]["DeletionPolicy"] = "Retain"
    template["Resources"]["DailyApiKeySecret"]["DeletionPolicy"] = "Retain"
    account.resources.template = template
    created = account.create_stack(
        account.resources.site_url,
        account.resources.api_url,
        account.resources.daily_api_url,
        name=STAGING,
    )

    result = deploy("--env", "staging", "--destroy")

    assert result.returncode == 0, result.output
    kept = [line for line in result.stdout.splitlines() if line.startswith("kept: ")]
    assert kept == [
        f"kept: log group /aws/lambda/{STAGING}/create-room outlived the stack (a DeletionPolicy "
        "of Retain keeps it). Remove it: aws logs delete-log-group --log-group-name "
        f"/aws/lambda/{STAGING}/create-room",
        f"kept: secret {created['DailyApiKeySecretArn']} outlived the stack (a DeletionPolicy of "
        "Retain keeps it). Remove it: aws secretsmanager delete-secret --secret-id "
        f"{created['DailyApiKeySecretArn']} --force-delete-without-recovery (a secret of its "
        "name stops the next deploy of this stack)",
    ]
    assert "deleted with the stack: 2 log group(s), 2 secret(s)" in result.stdout


def test_destroy_of_a_stack_that_does_not_exist_changes_nothing(
    deploy: Deployer, account: FakeAws
) -> None:
    result = deploy("--env", "staging", "--destroy")

    assert result.returncode == 0, result.output
    assert result.stdout.strip() == f"stack {STAGING} does not exist in {REGION}: nothing to delete"
    assert [action for _, action in account.cloudformation.calls] == ["DescribeStacks"]


def test_destroy_dry_run_deletes_nothing(deploy: Deployer, account: FakeAws) -> None:
    created = account.create_stack(
        account.resources.site_url,
        account.resources.api_url,
        account.resources.daily_api_url,
        name=STAGING,
    )
    account.client("s3").put_object(Bucket=created["SiteBucketName"], Key="app.js", Body=b"x")

    result = deploy("--env", "staging", "--destroy", "--dry-run")

    assert result.returncode == 0, result.output
    assert f"would empty bucket {created['SiteBucketName']}: 1 object version(s)" in result.stdout
    assert f"would delete stack {STAGING}" in result.stdout
    assert account.stack(STAGING) is not None
    assert bucket_keys(account, created["SiteBucketName"]) == {"app.js"}
