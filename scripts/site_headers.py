"""The page's security headers, read from template.yaml, where CloudFront's policy defines them.

The template is the one source of truth: the smoke test checks that the live site sends exactly
these strings, and the dev server sends them too, so the page is developed and tested under the
policy it is deployed with. HSTS is left out (it only applies over HTTPS).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation YAML, taking short-form intrinsics (!Ref, !Sub, …) as plain values."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def _mappings(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a parsed YAML document, depth first."""
    if isinstance(node, dict):
        yield node
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return
    for child in children:
        yield from _mappings(child)


@functools.cache
def template_headers(template: Path = TEMPLATE) -> dict[str, str]:
    """The headers the template's CloudFront response-headers policy adds (HSTS aside)."""
    document = yaml.load(template.read_text(), Loader=_TemplateLoader)  # noqa: S506 (a SafeLoader)
    for mapping in _mappings(document):
        config = mapping.get("SecurityHeadersConfig")
        if not isinstance(config, dict):
            continue
        headers = {
            "Content-Security-Policy": config["ContentSecurityPolicy"]["ContentSecurityPolicy"],
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": config["ReferrerPolicy"]["ReferrerPolicy"],
            "X-Frame-Options": config["FrameOptions"]["FrameOption"],
        }
        for item in mapping.get("CustomHeadersConfig", {}).get("Items", []):
            headers[item["Header"]] = item["Value"]
        return headers
    raise LookupError(f"{template} has no CloudFront SecurityHeadersConfig")
