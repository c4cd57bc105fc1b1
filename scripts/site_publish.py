"""Publish site/ to the stack's bucket: only what changed, pages last, stale files removed.

Order matters because the pages name the other files and nothing is content-hashed: every
asset (new or changed) goes up first, then the .html pages, then the objects no longer in site/
are deleted, so a visitor who gets a new page also gets the files it names.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# index.html names the other files, so it must always be revalidated; the others are not
# content-hashed, so browsers may keep them only briefly (an invalidation clears CloudFront).
HTML_CACHE_CONTROL = "no-cache"
ASSET_CACHE_CONTROL = "public, max-age=300"
DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys
SHOWN_ERRORS = 5

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}


class PublishError(Exception):
    """The bucket refused part of the publish; the message names what."""


@dataclass(frozen=True)
class SiteFile:
    key: str
    path: Path
    md5: str
    content_type: str
    cache_control: str

    @property
    def is_page(self) -> bool:
        return self.key.lower().endswith(".html")


@dataclass
class SyncPlan:
    uploads: list[tuple[SiteFile, str]] = field(default_factory=list)  # (file, "new"/"changed"...)
    deletes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.uploads or self.deletes)

    def ordered_uploads(self) -> list[tuple[SiteFile, str]]:
        """Assets first, pages last (each group in key order)."""
        return sorted(self.uploads, key=lambda upload: (upload[0].is_page, upload[0].key))


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def local_files(site: Path) -> dict[str, SiteFile]:
    """Every file under `site` (dot-files left out), by object key."""
    if not site.is_dir():
        raise PublishError(f"{site} is not a folder")
    files = {}
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = relative.as_posix()
        cache = HTML_CACHE_CONTROL if path.suffix.lower() == ".html" else ASSET_CACHE_CONTROL
        md5 = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        files[key] = SiteFile(key, path, md5, content_type(path), cache)
    if not files:
        raise PublishError(f"{site} has no files; refusing to empty the bucket")
    return files


def remote_etags(s3: Any, bucket: str) -> dict[str, str]:
    etags = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            etags[item["Key"]] = item["ETag"].strip('"')
    return etags


def plan_new_bucket(files: dict[str, SiteFile]) -> SyncPlan:
    """The plan for a bucket that does not exist yet: every file is new."""
    return SyncPlan(uploads=[(file, "new") for file in files.values()])


def plan_sync(s3: Any, bucket: str, files: dict[str, SiteFile]) -> SyncPlan:
    """Compare site/ with the bucket: content by MD5/ETag, then the two headers."""
    remote = remote_etags(s3, bucket)
    plan = SyncPlan(deletes=sorted(set(remote) - set(files)))
    for key, file in files.items():
        if key not in remote:
            plan.uploads.append((file, "new"))
        elif remote[key] != file.md5:
            plan.uploads.append((file, "changed"))
        else:
            head = s3.head_object(Bucket=bucket, Key=key)
            if (head.get("ContentType"), head.get("CacheControl")) != (
                file.content_type,
                file.cache_control,
            ):
                plan.uploads.append((file, "headers changed"))
            else:
                plan.unchanged.append(key)
    return plan


def delete_keys(s3: Any, bucket: str, objects: list[dict[str, str]]) -> None:
    """DeleteObjects in batches. With Quiet it answers only the keys it could not delete, with
    HTTP 200: those are read and raised, or a refused delete would pass as done."""
    errors: list[dict[str, str]] = []
    for start in range(0, len(objects), DELETE_BATCH):
        batch = objects[start : start + DELETE_BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors += answer.get("Errors", [])
    if errors:
        shown = "; ".join(
            f"{error.get('Key')}: {error.get('Code')} {error.get('Message', '')}".strip()
            for error in errors[:SHOWN_ERRORS]
        )
        more = f" and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
        raise PublishError(f"{bucket} refused to delete {len(errors)} object(s): {shown}{more}")


def apply_sync(s3: Any, bucket: str, plan: SyncPlan, *, dry_run: bool) -> None:
    verb = "would " if dry_run else ""
    for file, reason in plan.ordered_uploads():
        print(f"{verb}upload {file.key} ({reason}; {file.content_type}; {file.cache_control})")
        if not dry_run:
            s3.put_object(
                Bucket=bucket,
                Key=file.key,
                Body=file.path.read_bytes(),
                ContentType=file.content_type,
                CacheControl=file.cache_control,
                ContentMD5=base64.b64encode(bytes.fromhex(file.md5)).decode(),
            )
    for key in plan.deletes:
        print(f"{verb}delete {key} (no longer in site/)")
    if plan.deletes and not dry_run:
        delete_keys(s3, bucket, [{"Key": key} for key in plan.deletes])
    print(f"{len(plan.unchanged)} file(s) unchanged")


def invalidate(cloudfront: Any, distribution_id: str, *, dry_run: bool) -> None:
    if dry_run:
        print(f"would invalidate /* on distribution {distribution_id}")
        return
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"deploy-{time.time_ns()}",
        },
    )
    print(f"invalidation {answer['Invalidation']['Id']} of /* on {distribution_id}")
