"""What a deploy of one environment needs to know before any AWS call: its name, stack name,
region and parameter overrides, each checked so a mistake fails here in one line, not in
CloudFormation minutes later.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

# Environment names become parts of other names (stack `daily-rooms-<env>`, deploy role
# `deploy-daily-rooms-<env>`, the GitHub environment): lowercase, so every service accepts them.
ENV_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
ENV_MAX_LENGTH = 25  # `daily-rooms-` + 25 characters fills the 37 a stack name may have
STACK_PATTERN = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")  # CloudFormation's own rule
# The template's names with the stack's name in them and the tightest limit, 64 characters:
# the PreTraffic hook's function (Lambda) and the origin access control (CloudFront), which also
# holds the region. The hook's allows 37 characters of stack name in every region; the
# origin access control's 44 in the longest regions (ap-southeast-2 and others, 14 characters).
NAME_LIMIT = 64
STACK_NAMES = ("CodeDeployHook_{stack}-pre-traffic", "{stack}-{region}-site")
PARAMETER_KEY = re.compile(r"[A-Za-z0-9]+")
# bootstrap/template.yaml's ArtifactBucket, the only bucket a deploy role may upload builds to.
ARTIFACT_BUCKET = "artifacts-daily-rooms-{env}-{account}"


class SettingsError(Exception):
    """A setting that would make the deploy fail; the message says which and how to fix it."""


@dataclass(frozen=True)
class Environment:
    name: str
    stack: str
    region: str
    parameter_overrides: dict[str, str]  # samconfig.toml's, before any given on the command line


def check_env_name(env: str) -> None:
    if len(env) > ENV_MAX_LENGTH or not ENV_PATTERN.fullmatch(env):
        raise SettingsError(
            f"environment name {env!r} is not allowed: use lowercase letters, digits and single "
            f"hyphens, starting with a letter, at most {ENV_MAX_LENGTH} characters"
        )


def longest_stack_name(region: str) -> int:
    """The most characters a stack name may have in `region` for every name the template makes."""
    return min(NAME_LIMIT - len(name.format(stack="", region=region)) for name in STACK_NAMES)


def check_stack_name(stack: str, region: str) -> None:
    if len(stack) > 128 or not STACK_PATTERN.fullmatch(stack):
        raise SettingsError(
            f"stack name {stack!r} is not allowed: letters, digits and hyphens, starting with a "
            "letter (CloudFormation's rule)"
        )
    limit = longest_stack_name(region)
    too_long = [
        made
        for name in STACK_NAMES
        if len(made := name.format(stack=stack, region=region)) > NAME_LIMIT
    ]
    if too_long:
        named = " and ".join(f"{name!r} ({len(name)} characters)" for name in too_long)
        raise SettingsError(
            f"stack name {stack!r} has {len(stack)} characters, at most {limit} fit in {region}: "
            f"the template would name {named}, over the limit of {NAME_LIMIT}. Shorten "
            "stack_name in samconfig.toml"
        )


def read_samconfig(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SettingsError(f"{path} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path} is not valid TOML: {error}") from None


def samconfig_value(config: dict[str, Any], env: str, key: str) -> Any:
    """A deploy setting of `env` as SAM CLI reads it: the deploy section, then the global one."""
    for command in ("deploy", "global"):
        value = config[env].get(command, {}).get("parameters", {}).get(key)
        if value is not None:
            return value
    return None


def parse_overrides(text: str, source: str) -> dict[str, str]:
    """`Key=Value Key2="a value"` (SAM CLI's own form) as a dict, in order."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise SettingsError(f"{source}: {error}") from None
    overrides = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not PARAMETER_KEY.fullmatch(key):
            raise SettingsError(f"{source}: {word!r} is not Key=Value")
        overrides[key] = value
    return overrides


def template_parameters(template: Path) -> list[str]:
    """The names under `Parameters:` in template.yaml (two-space indented keys)."""
    names, inside = [], False
    for line in template.read_text().splitlines():
        if re.fullmatch(r"\S.*:\s*", line):
            inside = line.startswith("Parameters:")
        elif inside and (found := re.fullmatch(r"  ([A-Za-z0-9]+):\s*", line)):
            names.append(found.group(1))
    return names


def merged_overrides(environment: Environment, given: str, template: Path) -> dict[str, str] | None:
    """samconfig.toml's overrides with `given` on top, or None when nothing is given. SAM CLI's
    --parameter-overrides replaces samconfig's list, so the merge happens here."""
    if not given.strip():
        return None
    extra = parse_overrides(given, "--parameter-overrides")
    known = template_parameters(template)
    unknown = [key for key in extra if key not in known]
    if unknown:
        raise SettingsError(
            f"{', '.join(unknown)}: no such parameter in {template.name} (see the README's "
            "Configuration table)"
        )
    return {**environment.parameter_overrides, **extra}


def resolve_region(explicit: str | None) -> str:
    """--region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region: the AWS
    CLI's order. botocore and SAM CLI read only the last two, so the answer is passed on."""
    region = explicit or os.environ.get("AWS_REGION") or boto3.Session().region_name
    if not region:
        raise SettingsError(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, a profile's region, --region)"
        )
    return region


def load_environment(env: str, samconfig: Path, region: str | None) -> Environment:
    """The checked settings of `env`, from samconfig.toml and the AWS configuration."""
    check_env_name(env)
    config = read_samconfig(samconfig)
    environments = sorted(k for k, v in config.items() if isinstance(v, dict))
    if env not in environments:
        raise SettingsError(f"unknown environment {env!r}; samconfig.toml has {environments}")
    stack = samconfig_value(config, env, "stack_name")
    if not stack:
        raise SettingsError(f"samconfig.toml gives environment {env!r} no stack_name")
    overrides = samconfig_value(config, env, "parameter_overrides") or ""
    if isinstance(overrides, list):
        overrides = " ".join(shlex.quote(item) for item in overrides)
    resolved = resolve_region(region)
    check_stack_name(stack, resolved)
    parsed = parse_overrides(overrides, f"samconfig.toml [{env}] parameter_overrides")
    return Environment(env, stack, resolved, parsed)
