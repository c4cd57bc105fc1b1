"""The dev server's change to the production security headers (scripts/site_headers.py reads
them from template.yaml): a source added to one CSP directive, for the offline call's frame."""

from __future__ import annotations


def add_source(policy: str, directive: str, source: str) -> str:
    """`policy` with `source` added to one of its directives (which must exist)."""
    parts = [part.strip() for part in policy.split(";")]
    for index, part in enumerate(parts):
        if part.split()[0] == directive:
            parts[index] = f"{part} {source}"
            return "; ".join(parts)
    raise LookupError(f"the policy has no {directive} directive")
