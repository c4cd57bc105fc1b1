"""The metric the rollback alarms watch is counted per function and version, as Lambda says."""

from __future__ import annotations

import json


def emf_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def test_an_internal_error_is_counted_for_the_running_version(health, capsys, monkeypatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "daily-rooms-prod-health")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "12")
    capsys.readouterr()

    answer = health.raw({"requestContext": "unreadable"})

    assert json.loads(answer["body"])["error"] == "internal_error"
    versioned = [
        line
        for line in emf_lines(capsys.readouterr().out)
        if ["function_name", "function_version", "service"]
        in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    ]
    [line] = versioned
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "InternalErrors", "Unit": "Count"}
    ]
    assert (line["function_name"], line["function_version"]) == ("daily-rooms-prod-health", "12")
    assert line["service"] == "daily-rooms"
    assert line["InternalErrors"] == [1.0]
