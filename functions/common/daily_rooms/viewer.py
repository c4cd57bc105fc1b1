"""Who is calling: the CloudFront origin-verify check and the viewer's real address."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from daily_rooms.errors import Forbidden, InvalidRequest, OriginCheckUnconfigured
from daily_rooms.stored_secrets import StoredSecrets
from daily_rooms.telemetry import logger

ORIGIN_HEADER = "x-origin-verify"
VIEWER_HEADER = "cloudfront-viewer-address"
# For the operator: the caller only learns that the service is not set up.
UNCONFIGURED_HELP = (
    "No origin-verify secret is configured (ORIGIN_VERIFY_SECRET), so every request is refused: "
    "deploy the template, which sets it. Only local runs without CloudFront may set "
    "LOCAL_ONLY_SKIP_ORIGIN_VERIFY=true instead"
)


class OriginCheck:
    """Requires the header CloudFront adds, compared in constant time with a stored secret.

    With no secret configured every request is refused (fail closed), unless `local_only_skip`
    says this is a local run without CloudFront: the check is then off, and the viewer header
    not trusted either.
    """

    def __init__(self, secrets: StoredSecrets, *, local_only_skip: bool):
        self.secrets = secrets
        self.local_only_skip = local_only_skip

    @property
    def enabled(self) -> bool:
        return bool(self.secrets.origin_secret)

    def require(self, headers: dict[str, str]) -> None:
        """Raise Forbidden unless the request carries the origin-verify value, and
        OriginCheckUnconfigured when there is none to compare with."""
        if not self.enabled:
            if self.local_only_skip:
                return
            logger.error(UNCONFIGURED_HELP)
            raise OriginCheckUnconfigured()
        given = (headers.get(ORIGIN_HEADER) or "").encode()
        if not hmac.compare_digest(given, self.secrets.origin_value()):
            raise Forbidden()


@dataclass(frozen=True)
class Viewer:
    """What the limits count: the address (an IPv6 viewer as its /64) and, for IPv6, its /48."""

    address: str
    prefix: str | None = None


def _viewer(text: str) -> Viewer | None:
    try:
        ip = ipaddress.ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 4:
        return Viewer(str(ip))
    # A subscriber gets a /64 (often a /56 or /48): one /48 can hold 65,536 "viewers".
    network = ipaddress.ip_network(f"{ip}/64", strict=False)
    return Viewer(str(network), str(network.supernet(new_prefix=48)))


def viewer_of(headers: dict[str, str], source_ip: str, *, trusted: bool) -> Viewer:
    """The viewer: CloudFront's `ip:port` header when the origin check is on, else the socket's.

    Behind CloudFront the socket's address is the edge's, shared by many viewers: a missing or
    malformed header is refused rather than counted against the edge.
    """
    if not trusted:
        return _viewer(source_ip.split("/")[0]) or Viewer("unknown")
    host, colon, port = (headers.get(VIEWER_HEADER) or "").strip().rpartition(":")
    viewer = _viewer(host) if colon and port.isascii() and port.isdigit() else None
    if viewer is None:
        raise InvalidRequest("The viewer's address (CloudFront-Viewer-Address) is missing.")
    return viewer
