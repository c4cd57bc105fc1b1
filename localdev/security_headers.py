"""The dev server's security headers: exactly the strings CloudFront adds in production.

They are read from template.yaml by scripts/site_headers.py (the smoke test of a deployed site
reads them there too), so the page is developed and tested under the policy it is deployed with.
Only HSTS is left out (plain http).
"""

from __future__ import annotations

from scripts.site_headers import template_headers

__all__ = ["add_source", "template_headers"]


def add_source(policy: str, directive: str, source: str) -> str:
    """`policy` with `source` added to one of its directives (which must exist)."""
    parts = [part.strip() for part in policy.split(";")]
    for index, part in enumerate(parts):
        if part.split()[0] == directive:
            parts[index] = f"{part} {source}"
            return "; ".join(parts)
    raise LookupError(f"the policy has no {directive} directive")
