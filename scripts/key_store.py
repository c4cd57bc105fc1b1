"""Store the Daily API key in the stack's secret, without ever reading the secret back.

The value is `{"apiKey", "domainId", "domainName"}`: the last two come from one `GET {Daily}/`
with the key when Daily answers it, so the create function needs no lookup of its own. The write
is idempotent: its ClientRequestToken (the version id) is a salted, slow hash of the value, so
storing the same value again adds no version. The deploy role may put and describe the secret,
never get its value.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 10
TOKEN_ITERATIONS = 200_000
CURRENT = "AWSCURRENT"


class KeyRefused(Exception):
    """Daily answered 401 or 403 to the key: storing it would break every create."""


def daily_domain(api_url: str, api_key: str) -> dict[str, str]:
    """{"domainId", "domainName"} from Daily's `GET /`, or {} when Daily does not answer it."""
    url = f"{api_url.rstrip('/')}/"
    if not url.startswith(("https://", "http://")):
        return {}
    headers = {"Authorization": f"Bearer {api_key}", "User-Agent": "daily-rooms-deploy"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            message = f"Daily refused DAILY_API_KEY ({error.code}); the secret is unchanged"
            raise KeyRefused(message) from None
        return {}
    except (OSError, ValueError):
        return {}
    domain_id, domain_name = answer.get("domain_id"), answer.get("domain_name")
    if isinstance(domain_id, str) and isinstance(domain_name, str):
        return {"domainId": domain_id, "domainName": domain_name}
    return {}


def secret_value(api_key: str, domain: dict[str, str]) -> str:
    return json.dumps({"apiKey": api_key, **domain})


def request_token(secret_arn: str, value: str) -> str:
    """64 hex characters that only this value in this secret gives (and that do not reveal it)."""
    digest = hashlib.pbkdf2_hmac("sha256", value.encode(), secret_arn.encode(), TOKEN_ITERATIONS)
    return digest.hex()


def put_key(secrets: Any, secret_arn: str, value: str) -> None:
    """Make `value` the secret's current version, writing it at most once."""
    token = request_token(secret_arn, value)
    secrets.put_secret_value(SecretId=secret_arn, SecretString=value, ClientRequestToken=token)
    # A value stored once before (A, then B, then A again) keeps its old version, and putting it
    # again changes nothing: that version is made current by moving the label.
    stages = secrets.describe_secret(SecretId=secret_arn)["VersionIdsToStages"]
    if CURRENT in stages.get(token, []):
        return
    move = {"MoveToVersionId": token}
    previous = [version for version, labels in stages.items() if CURRENT in labels]
    if previous:
        move["RemoveFromVersionId"] = previous[0]
    secrets.update_secret_version_stage(SecretId=secret_arn, VersionStage=CURRENT, **move)
