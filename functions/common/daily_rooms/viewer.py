"""Who is calling: the CloudFront origin-verify check and the viewer's real address."""

from __future__ import annotations

import hmac
import ipaddress

from aws_lambda_powertools import Logger

from daily_rooms.errors import ApiError, SecretUnavailable
from daily_rooms.stored_secrets import read_secret

logger = Logger(child=True)

ORIGIN_HEADER = "x-origin-verify"
VIEWER_HEADER = "cloudfront-viewer-address"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    default_message = "Call this API through the site's own address."


class OriginCheck:
    """Requires the header CloudFront adds, compared in constant time with a stored secret.

    With no secret configured (a bare `sam local invoke`) the check is off, and the viewer
    header is then not trusted either.
    """

    def __init__(self, secret_id: str, max_age: int):
        self.secret_id = secret_id
        self.max_age = max_age

    @property
    def enabled(self) -> bool:
        return bool(self.secret_id)

    def require(self, headers: dict[str, str]) -> None:
        """Raise Forbidden unless the request carries the origin-verify value."""
        if not self.enabled:
            return
        expected = read_secret(self.secret_id, self.max_age)
        if not expected:
            logger.error("The origin-verify secret is missing")
            raise SecretUnavailable()
        given = headers.get(ORIGIN_HEADER) or ""
        if isinstance(expected, str):
            expected = expected.encode()
        if not hmac.compare_digest(given.encode(), expected):
            raise Forbidden()


def _network(address: str) -> str | None:
    """An IPv4 address as is; an IPv6 address as its /64, the block one subscriber gets."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def viewer_address(headers: dict[str, str], source_ip: str, *, trusted: bool) -> str:
    """The viewer's address: CloudFront's `ip:port` header when trusted, else the socket's."""
    if trusted and headers.get(VIEWER_HEADER):
        host = headers[VIEWER_HEADER].rsplit(":", 1)[0]
        viewer = _network(host)
        if viewer:
            return viewer
    return _network(source_ip.split("/")[0]) or "unknown"
