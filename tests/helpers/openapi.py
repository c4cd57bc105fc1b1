"""docs/openapi.yaml, and the check that one HTTP answer is what it documents."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "openapi.yaml"
SPEC_URI = "urn:daily-rooms:openapi"


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A spec object with its `$ref` (within the spec) followed."""
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """JSON Schema 2020-12 validation of `instance`, `$ref`s resolved within the spec."""
    # The spec's own `#/...` references, made absolute: this schema is checked on its own.
    absolute = json.loads(json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{SPEC_URI}#/'))
    validator = Draft202012Validator(absolute, registry=_registry())
    return [error.message for error in validator.iter_errors(instance)]


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (names compared case-insensitively) and raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


def operation_response(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The documented response of an operation for a status, or None."""
    operation = spec()["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    return resolve(response) if response is not None else None


def component_response(name: str) -> dict[str, Any]:
    return resolve(spec()["components"]["responses"][name])


def _header_value(raw: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        return int(raw) if raw.isascii() and raw.isdigit() else raw
    return raw


def problems(answer: Answer, response: dict[str, Any] | None) -> list[str]:
    """Where the answer departs from the documented response (empty: it conforms)."""
    if response is None:
        return [f"status {answer.status} is not documented"]
    found: list[str] = []
    for name, header in response.get("headers", {}).items():
        header = resolve(header)
        raw = answer.header(name)
        if raw is None:
            if header.get("required"):
                found.append(f"header {name} is missing")
            continue
        value = _header_value(raw, header["schema"])
        found += [f"header {name}: {e}" for e in _schema_errors(header["schema"], value)]
    content = response.get("content")
    if content is None:
        if answer.body:
            found.append(f"a body where none is documented: {answer.body[:200]!r}")
        return found
    media_type = (answer.header("Content-Type") or "").split(";")[0].strip()
    if media_type not in content:
        return [*found, f"Content-Type {media_type!r} is not one of {sorted(content)}"]
    try:
        body = answer.json()
    except ValueError:
        return [*found, f"the body is not JSON: {answer.body[:200]!r}"]
    schema = content[media_type]["schema"]
    return found + [f"body: {e}" for e in _schema_errors(schema, body)]


def documented_codes(response: dict[str, Any]) -> Iterator[str]:
    """The error codes a response's schema names (const, enum or examples of `error`)."""
    if "content" not in response:
        return
    schema = resolve(response["content"]["application/json"]["schema"])
    for part in schema.get("allOf", []):
        error = part.get("properties", {}).get("error", {})
        if "const" in error:
            yield error["const"]
        yield from error.get("enum", [])
        yield from error.get("examples", [])
