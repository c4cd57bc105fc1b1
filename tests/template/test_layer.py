"""The common layer (functions/common/requirements.txt, built by functions/common/Makefile): its
whole dependency tree pinned, and the AWS SDK left to the python3.13 runtime."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "functions" / "common" / "requirements.txt"
RUNTIME_SDK = {"boto3", "botocore"}  # what the Lambda runtime provides besides the stdlib
FIRST_PARTY = {"daily_rooms", "create_room", "health", "pre_traffic"}


def pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by canonical name."""
    found = re.findall(r"^([\w.-]+)==(\S+)$", path.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in found}


def test_the_layer_leaves_the_sdk_to_the_runtime_and_the_tests_pin_it():
    layer, local = pins(LAYER), pins(ROOT / "requirements-local.txt")

    assert not {"boto3", "botocore", "s3transfer"} & layer.keys()
    assert {"boto3", "botocore"} <= local.keys()


def test_the_layer_pins_its_whole_dependency_tree():
    """The Makefile installs the pins with --no-deps: a dependency of a pinned package must be
    pinned too, and none may need the SDK (a package needing boto3 would bring it back)."""
    layer = pins(LAYER)
    missing = set()
    for name, version in layer.items():
        assert importlib.metadata.version(name) == version, name  # the metadata read is the pin's
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                missing.add(canonicalize_name(requirement.name))

    assert missing - layer.keys() == set()
    assert "--no-deps" in (LAYER.parent / "Makefile").read_text()


def imported_top_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def test_the_functions_import_only_the_layer_the_runtime_sdk_and_the_stdlib():
    provided = importlib.metadata.packages_distributions()
    layer_modules = {
        module
        for module, distributions in provided.items()
        if any(canonicalize_name(d) in pins(LAYER) for d in distributions)
    }
    imported = set().union(*map(imported_top_modules, (ROOT / "functions").rglob("*.py")))

    allowed = set(sys.stdlib_module_names) | layer_modules | RUNTIME_SDK | FIRST_PARTY
    assert imported - allowed == set()
    assert {"aws_lambda_powertools", "requests", "boto3"} <= imported
