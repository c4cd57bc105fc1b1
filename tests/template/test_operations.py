"""Operations: log groups, alarms to one topic, the dashboard, canary deployment, the boundary."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from daily_rooms.telemetry import PER_VERSION, version_dimensions
from scripts.deploy_settings import load_environment
from tests.template.conftest import ROOT, Render, resources_of_type, rule_failures

# Powertools' `service` dimension is the stack's name, so two stacks in one account and region
# (staging and prod) never answer each other's alarms.
SERVICE = [{"Name": "service", "Value": {"Ref": "AWS::StackName"}}]
FUNCTIONS = ("CreateRoomFunction", "HealthFunction")
ROLLBACK = {"CreateRoomFunction": "CreateRoomFaultsAlarm", "HealthFunction": "HealthFaultsAlarm"}
BOUNDARY_ARN = "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/${PermissionsBoundaryName}"
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z]+)?\}")


def test_functions_emit_the_dimension_the_alarms_watch(raw_template: dict[str, Any]) -> None:
    variables = raw_template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == SERVICE[0]["Value"]


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = resources_of_type(template, "AWS::CloudWatch::Alarm")
    return {name: alarm["Properties"] for name, alarm in found.items()}


def watched(alarm: dict[str, Any]) -> list[tuple[str, str, list]]:
    """(namespace, metric, dimensions) of every metric the alarm reads, metric math included."""
    if "MetricName" in alarm:
        return [(alarm["Namespace"], alarm["MetricName"], alarm.get("Dimensions", []))]
    return [
        (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Metric"]["Dimensions"])
        for query in alarm["Metrics"]
        if (stat := query.get("MetricStat"))
    ]


def evaluated(alarm: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each metric the alarm reads with its period and statistic: what it judges."""
    if "MetricName" in alarm:
        stat = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
        return [(*watched(alarm)[0], alarm["Period"], stat)]
    queries = [query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query]
    return [
        (*metric, q["Period"], q["Stat"]) for metric, q in zip(watched(alarm), queries, strict=True)
    ]


def alarm_on(template: dict[str, Any], namespace: str, metric: str, dimensions: list) -> dict:
    """The one alarm reading only this metric, with exactly these dimensions."""
    [found] = [
        alarm
        for alarm in alarms(template).values()
        if watched(alarm) == [(namespace, metric, dimensions)]
    ]
    return found


def samconfig_overrides(env: str) -> dict[str, str]:
    """The environment's parameter overrides, read as scripts/deploy.py reads them."""
    return load_environment(env, ROOT / "samconfig.toml", "us-east-1").parameter_overrides


def test_each_function_logs_to_its_own_group_kept_for_the_retention_parameter(
    render: Render, deployed: dict[str, Any]
) -> None:
    longer = render(LogRetentionDays="90")

    groups = set()
    for name in FUNCTIONS:
        config = deployed["Resources"][name]["Properties"]["LoggingConfig"]
        group = config["LogGroup"]["Ref"]
        groups.add(group)
        assert deployed["Resources"][group]["Type"] == "AWS::Logs::LogGroup", name
        assert deployed["Resources"][group]["Properties"]["RetentionInDays"] == 30, name
        assert int(longer["Resources"][group]["Properties"]["RetentionInDays"]) == 90, name
    assert len(groups) == 2


def test_every_alarm_is_named_described_and_notifies_the_topic(deployed: dict[str, Any]) -> None:
    found = alarms(deployed)

    assert len(found) == 8
    names = set()
    for logical_id, alarm in found.items():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["OKActions"] == [{"Ref": "AlarmTopic"}], logical_id
        assert alarm["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-"), logical_id
        names.add(alarm["AlarmName"]["Fn::Sub"])
        assert len(alarm["AlarmDescription"].split()) >= 12, logical_id  # says what to do
        # No traffic is no error; and the key alarm clears once no check finds the key missing.
        assert alarm["TreatMissingData"] == "notBreaching", logical_id
    assert len(names) == len(found)


def test_alarms_cover_5xx_throttles_daily_key_and_latency(deployed: dict[str, Any]) -> None:
    daily = alarm_on(deployed, "DailyRooms", "DailyFailures", SERVICE)
    key = alarm_on(deployed, "DailyRooms", "KeyConfigured", SERVICE)
    api = alarm_on(
        deployed, "AWS/ApiGateway", "5xx", [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    )

    assert (api["Statistic"], api["Threshold"]) == ("Sum", 3)
    assert daily["Statistic"] == "Sum"
    # KeyConfigured is 1 or 0 per health check: alarm when no check in the period saw a key.
    assert (key["Statistic"], key["ComparisonOperator"], key["Threshold"]) == (
        "Maximum",
        "LessThanThreshold",
        1,
    )
    throttles = {
        alarm_name
        for function in FUNCTIONS
        for alarm_name, alarm in alarms(deployed).items()
        if ("AWS/Lambda", "Throttles", [{"Name": "FunctionName", "Value": {"Ref": function}}])
        in watched(alarm)
    }
    assert throttles == {"ThrottlesAlarm"}  # one alarm, both functions
    latency = alarm_on(
        deployed,
        "AWS/Lambda",
        "Duration",
        [{"Name": "FunctionName", "Value": {"Ref": "CreateRoomFunction"}}],
    )
    assert latency["ExtendedStatistic"] == "p99"
    assert latency["Threshold"] == 3000


def test_no_two_alarms_watch_the_same_failure(deployed: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for name, alarm in alarms(deployed).items():
        for metric in evaluated(alarm):
            key = json.dumps(metric, sort_keys=True)
            assert key not in seen, f"{name} and {seen.get(key)} both watch {metric}"
            seen[key] = name
    metrics = {(namespace, metric) for namespace, metric, *_ in map(json.loads, seen)}
    # The HTTP API's 5xx count every 5xx the functions answer (ServerErrors) and its own.
    assert ("AWS/ApiGateway", "5xx") in metrics
    assert ("DailyRooms", "ServerErrors") not in metrics


def versioned_alarm_metrics(
    transformed: dict[str, Any], function: str
) -> dict[str, dict[str, Any]]:
    alarm = transformed["Resources"][ROLLBACK[function]]["Properties"]
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    return {
        query_id: {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"]}
        for query_id, query in queries.items()
        if "MetricStat" in query
    }


@pytest.mark.parametrize("function", FUNCTIONS)
def test_rollback_alarm_counts_only_its_functions_new_version(
    transformed: dict[str, Any], function: str
) -> None:
    resources = transformed["Resources"]
    alarm = resources[ROLLBACK[function]]["Properties"]
    alias_version = resources[f"{function}Aliaslive"]["Properties"]["FunctionVersion"]
    number = {"Fn::Select": [7, {"Fn::Split": [":", {"Ref": alias_version["Fn::GetAtt"][0]}]}]}
    queries = {query["Id"]: query for query in alarm["Metrics"]}
    dimensions = versioned_alarm_metrics(transformed, function)

    # Lambda's Errors through the alias, of the version the alias is moved to only.
    assert queries["crashes"]["MetricStat"]["Metric"]["MetricName"] == "Errors"
    assert dimensions["crashes"] == {
        "FunctionName": {"Ref": function},
        "Resource": {"Fn::Sub": f"${{{function}}}:live"},
        "ExecutedVersion": number,
    }
    # The functions' own internal_error count, with the dimensions telemetry.py gives it.
    assert queries["bugs"]["MetricStat"]["Metric"]["MetricName"] == "InternalErrors"
    assert "InternalErrors" in PER_VERSION
    assert set(dimensions["bugs"]) == {"service", *version_dimensions()}
    assert dimensions["bugs"]["function_name"] == {"Ref": function}
    assert dimensions["bugs"]["function_version"] == number
    assert queries["faults"]["Expression"] == "FILL(crashes, 0) + FILL(bugs, 0)"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert {
        query["MetricStat"]["Period"] for query in queries.values() if "MetricStat" in query
    } == {60}


def test_codedeploy_may_read_exactly_the_rollback_alarms(deployed: dict[str, Any]) -> None:
    resources = deployed["Resources"]
    rollback = {
        alarm["Name"]["Ref"]
        for name in FUNCTIONS
        for alarm in resources[f"{name}DeploymentGroup"]["Properties"]["AlarmConfiguration"][
            "Alarms"
        ]
    }
    [statement] = [
        s
        for policy in resources["DeploymentRole"]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == "cloudwatch:DescribeAlarms"
    ]

    assert {arn["Fn::GetAtt"][0] for arn in statement["Resource"]} == rollback
    assert rollback == set(ROLLBACK.values())


def test_latency_threshold_is_a_parameter(render: Render) -> None:
    [latency] = [
        a
        for a in alarms(render(CreateP99AlarmMilliseconds="1500")).values()
        if a.get("ExtendedStatistic") == "p99"
    ]

    assert int(latency["Threshold"]) == 1500


def test_daily_cap_alarm_is_80_percent_of_the_cap_over_a_rolling_day(
    deployed: dict[str, Any],
) -> None:
    cap = alarms(deployed)["DailyCapAlarm"]
    queries = {query["Id"]: query for query in cap["Metrics"]}

    for query_id, metric in (
        ("rooms", "RoomsCreated"),
        ("failures", "DailyFailures"),
        ("crashes", "InternalErrors"),
    ):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"] == {
            "Namespace": "DailyRooms",
            "MetricName": metric,
            "Dimensions": SERVICE,
        }
        assert (stat["Period"], stat["Stat"]) == (86400, "Sum")  # the longest period
        assert queries[query_id]["ReturnData"] is False
    used = queries["capUsed"]
    assert used["ReturnData"] is True
    assert used["Expression"] == {
        "Fn::Sub": "100 * (FILL(rooms, 0) + FILL(failures, 0) + FILL(crashes, 0)) / ${DailyRoomCap}"
    }
    assert (cap["Threshold"], cap["ComparisonOperator"], cap["EvaluationPeriods"]) == (
        80,
        "GreaterThanOrEqualToThreshold",
        1,
    )


def test_alarm_e_mail_is_subscribed_only_when_given(render: Render, deployed: dict) -> None:
    subscribed = render(AlarmEmail="ops@example.com")

    assert not resources_of_type(deployed, "AWS::SNS::Subscription")
    [subscription] = resources_of_type(subscribed, "AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": "ops@example.com",
    }


def dashboard_widgets(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The dashboard body with every ${...} replaced by a placeholder, parsed as JSON."""
    [dashboard] = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    names = set(SUB_NAME.findall(body))
    assert names <= set(template["Resources"]) | set(template["Parameters"]) | {
        "AWS::Region",
        "AWS::StackName",
    }
    return json.loads(SUB_NAME.sub("1", body))["widgets"]


def test_dashboard_shows_creates_refusals_errors_durations_and_daily_failures(
    transformed: dict[str, Any],
) -> None:
    widgets = {widget["properties"]["title"]: widget for widget in dashboard_widgets(transformed)}

    assert {
        "Rooms created",
        "Refusals (429) by limit",
        "Errors by code",
        "Create duration (ms)",
        "Daily failures",
        "Alarms",
    } <= set(widgets)
    durations = widgets["Create duration (ms)"]["properties"]["metrics"]
    assert {line[-1]["stat"] for line in durations} == {"p50", "p99"}
    for title in ("Refusals (429) by limit", "Errors by code"):
        query = widgets[title]["properties"]["query"]
        # the line api.py logs for every error answer
        assert 'filter message = "Request answered with an error"' in query
    assert "by `limit`" in widgets["Refusals (429) by limit"]["properties"]["query"]
    assert len(widgets["Alarms"]["properties"]["alarms"]) == len(alarms(transformed))
    lines = [
        line
        for widget in widgets.values()
        for line in widget["properties"].get("metrics", [])
        if line[0] == "DailyRooms"
    ]
    assert lines
    assert all(line[2:4] == ["service", "1"] for line in lines)  # ${AWS::StackName}, replaced


@pytest.mark.parametrize("function", FUNCTIONS)
def test_functions_shift_traffic_through_codedeploy_and_roll_back_on_alarms(
    render: Render, function: str
) -> None:
    template = render(DeploymentType="Canary10Percent10Minutes")
    resources = template["Resources"]
    alias = resources[f"{function}Aliaslive"]
    group = resources[f"{function}DeploymentGroup"]["Properties"]

    assert alias["Properties"]["Name"] == "live"
    assert alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]["DeploymentGroupName"] == {
        "Ref": f"{function}DeploymentGroup"
    }
    assert group["DeploymentConfigName"] == {
        "Fn::Sub": [
            "CodeDeployDefault.Lambda${ConfigName}",
            {"ConfigName": "Canary10Percent10Minutes"},
        ]
    }
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    rollback = [alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]]
    # Only the new version's own faults: 5xx also count Daily's and AWS's trouble, and rolling
    # back on those would undo a fix while Daily is down.
    assert rollback == [ROLLBACK[function]]
    assert group["AlarmConfiguration"]["Enabled"] is True
    assert group["ServiceRoleArn"] == {"Fn::GetAtt": ["DeploymentRole", "Arn"]}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_ignore_rollback_alarms_deploys_past_a_raised_alarm(render: Render, function: str) -> None:
    emergency = render(DeploymentType="Canary10Percent10Minutes", IgnoreRollbackAlarms="true")
    resources = emergency["Resources"]
    group = resources[f"{function}DeploymentGroup"]["Properties"]
    hook = resources[f"{function}Aliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]

    assert group["AlarmConfiguration"] == {}  # no alarm, and alarm checks off
    assert hook["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficHookFunction"}  # still checked
    assert ROLLBACK[function] in resources  # the alarm itself still pages


def test_rollback_alarms_are_on_unless_asked_otherwise(raw_template: dict[str, Any]) -> None:
    assert raw_template["Parameters"]["IgnoreRollbackAlarms"]["Default"] == "false"
    for env in ("ci", "staging", "prod"):
        assert samconfig_overrides(env).get("IgnoreRollbackAlarms", "false") == "false", env


def test_every_change_publishes_a_version(raw_template: dict[str, Any]) -> None:
    # Without AutoPublishAliasAllProperties a settings-only change would stay off the alias.
    for function in FUNCTIONS:
        properties = raw_template["Resources"][function]["Properties"]
        assert properties["AutoPublishAlias"] == "live"
        assert properties["AutoPublishAliasAllProperties"] is True


def test_routes_and_their_permissions_invoke_the_alias(transformed: dict[str, Any]) -> None:
    [api] = resources_of_type(transformed, "AWS::ApiGatewayV2::Api").values()
    paths = api["Properties"]["Body"]["paths"]
    routes = {"/api/rooms": "CreateRoomFunction", "/api/health": "HealthFunction"}

    for path, function in routes.items():
        integration = paths[path]["x-amazon-apigateway-any-method"][
            "x-amazon-apigateway-integration"
        ]
        assert f"${{{function}Aliaslive}}/invocations" in integration["uri"]["Fn::Sub"], path
    permissions = resources_of_type(transformed, "AWS::Lambda::Permission").values()
    assert {p["Properties"]["FunctionName"]["Ref"] for p in permissions} == {
        f"{function}Aliaslive" for function in routes.values()
    }


def test_staging_shifts_at_once_and_prod_runs_a_canary(raw_template: dict[str, Any]) -> None:
    allowed = raw_template["Parameters"]["DeploymentType"]["AllowedValues"]

    assert raw_template["Parameters"]["DeploymentType"]["Default"] == "AllAtOnce"
    assert samconfig_overrides("staging")["DeploymentType"] == "AllAtOnce"
    assert samconfig_overrides("prod")["DeploymentType"].startswith("Canary")
    assert samconfig_overrides("prod")["DeploymentType"] in allowed


def test_every_role_carries_the_permissions_boundary_when_named(
    render: Render, deployed: dict[str, Any]
) -> None:
    bounded = render(PermissionsBoundaryName="boundary-daily-rooms-staging")
    roles = resources_of_type(bounded, "AWS::IAM::Role")

    assert len(roles) == 4  # two functions, the PreTraffic check, CodeDeploy
    for name, role in roles.items():
        assert role["Properties"]["PermissionsBoundary"] == {"Fn::Sub": BOUNDARY_ARN}, name
        # the deploy role may write roles under role/<stack>/ only
        assert role["Properties"]["Path"] == {"Fn::Sub": "/${AWS::StackName}/"}, name
    for name, role in resources_of_type(deployed, "AWS::IAM::Role").items():
        assert "PermissionsBoundary" not in role["Properties"], name
    for env in ("ci", "staging", "prod"):  # what make bootstrap ENV=... creates
        boundary = samconfig_overrides(env)["PermissionsBoundaryName"]
        assert boundary == f"boundary-daily-rooms-{env}", env


def web_acl_id(template: dict[str, Any]) -> Any:
    [distribution] = resources_of_type(template, "AWS::CloudFront::Distribution").values()
    return distribution["Properties"]["DistributionConfig"].get("WebACLId")


def test_no_web_acl_by_default(deployed: dict[str, Any]) -> None:
    assert not resources_of_type(deployed, "AWS::WAFv2::WebACL")
    assert web_acl_id(deployed) is None


def test_waf_blocks_one_ip_flooding_the_api_with_a_json_429(render: Render) -> None:
    template = render(EnableWaf="true", WafRateLimit="300")
    [(name, acl)] = resources_of_type(template, "AWS::WAFv2::WebACL").items()
    properties = acl["Properties"]
    [rule] = properties["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    scope = rate["ScopeDownStatement"]["ByteMatchStatement"]
    block = rule["Action"]["Block"]["CustomResponse"]
    body = properties["CustomResponseBodies"][block["CustomResponseBodyKey"]]

    assert web_acl_id(template) == {"Fn::GetAtt": [name, "Arn"]}
    assert properties["Scope"] == "CLOUDFRONT"
    assert properties["DefaultAction"] == {"Allow": {}}
    assert (rate["AggregateKeyType"], int(rate["Limit"]), rate["EvaluationWindowSec"]) == (
        "IP",
        300,
        60,
    )
    assert (scope["FieldToMatch"], scope["PositionalConstraint"], scope["SearchString"]) == (
        {"UriPath": {}},
        "STARTS_WITH",
        "/api/",
    )
    assert block["ResponseCode"] == 429
    assert body["ContentType"] == "APPLICATION_JSON"
    assert set(json.loads(body["Content"])) == {"error", "message", "requestId"}
    assert json.loads(body["Content"])["error"] == "rate_limited"


def test_waf_is_created_only_in_us_east_1(render: Render) -> None:
    elsewhere = render(region="eu-west-1", EnableWaf="true")

    assert not resources_of_type(elsewhere, "AWS::WAFv2::WebACL")
    assert web_acl_id(elsewhere) is None
    assert elsewhere["Outputs"]["WebAcl"]["Value"] == "none"


def test_waf_asked_for_where_it_cannot_be_made_is_refused(raw_template: dict[str, Any]) -> None:
    """Rather than deploy without the web ACL it was asked for, CloudFormation refuses."""
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/rooms/0a1b2c3d"

    [refusal] = rule_failures(raw_template, "eu-west-1", EnableWaf="true")
    assert "WebAclArn" in refusal
    assert rule_failures(raw_template, "eu-west-1", **samconfig_overrides("prod"))
    assert not rule_failures(raw_template, "us-east-1", **samconfig_overrides("prod"))
    assert not rule_failures(raw_template, "us-east-1", EnableWaf="true")
    assert not rule_failures(raw_template, "eu-west-1", EnableWaf="true", WebAclArn=arn)
    assert not rule_failures(raw_template, "eu-west-1", EnableWaf="false")
    assert not rule_failures(raw_template, "eu-west-1")


def test_an_existing_web_acl_can_be_given_from_any_region(render: Render) -> None:
    arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/rooms/0a1b2c3d"

    for region in ("us-east-1", "eu-west-1"):
        template = render(region=region, EnableWaf="true", WebAclArn=arn)
        assert not resources_of_type(template, "AWS::WAFv2::WebACL"), region
        assert web_acl_id(template) == arn, region


def test_prod_turns_waf_on_and_staging_leaves_it_off() -> None:
    assert samconfig_overrides("prod")["EnableWaf"] == "true"
    assert samconfig_overrides("staging").get("EnableWaf", "false") == "false"


def test_route_throttling_is_a_ceiling_well_above_one_visitor(deployed: dict[str, Any]) -> None:
    [stage] = resources_of_type(deployed, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]

    assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (50, 100)
