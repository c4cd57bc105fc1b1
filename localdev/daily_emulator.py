"""A stdlib-only emulator of the Daily REST API, faithful enough for Daily's own client code.

It serves what the functions and Daily's own client code call: GET /v1/ (domain configuration),
POST /v1/rooms (create), GET/DELETE /v1/rooms/:name, POST /v1/meeting-tokens and
GET /v1/meeting-tokens/:token (validation, also of self-signed tokens), with Daily's auth rules,
error bodies and documented rate limits. Tests inject faults (error statuses, delays, malformed
bodies, dropped connections) from Python; GET /__emulator/state shows the rooms and tokens held.
Run it standalone with ``python -m localdev.daily_emulator --port 8787``.

Room and token properties, their kinds and defaults come from one list, `daily_reference.py`
(48 room and 23 token properties; sources and type decisions are noted there). Where Daily's docs
are silent, this emulator decides as follows, never stricter than Daily:
- Unknown fields are refused, 400 "unknown parameter 'x'": the create-room OpenAPI schema closes
  its body (`additionalProperties: false`), and clients written against the real API record this
  answer for tokens. Every documented property is known, so real clients do not hit it.
- Error texts follow answers recorded from the real API where available ("a room named x
  already exists", "x contains invalid characters (...)", "exp was '...', which is in the past
  rather than in the future", "exp was '...' but should be a number of seconds since the unix
  epoch", "room x not found" with error "not-found"); the docs fix only `error` and the status.
- Tokens: minted payloads carry the properties under their short claim names plus `d` (domain
  id) and `iat`, like Daily's decoded example. Validation requires the signature with this key,
  `d` equal to the domain id, an `exp` not past and an `nbf` not future unless
  `?ignoreNbf=true` (validate-meeting-token). A token it did not mint is self-signed, and must
  carry `r`, `iat` and `d`, which the self-signing docs require (a minted token may lack `r`:
  without `room_name` it opens every room of the domain).
- Bodies are strict JSON (RFC 8259): `NaN` and `Infinity`, which Python's json reads, are a
  json-parsing-error.
- HTTP/1.1 with keep-alive, as Daily's API serves it: every answer has a Content-Length, and a
  dropped-connection fault closes the connection.
- Expired rooms are treated as deleted (delete-room: "expired rooms are treated by API endpoints
  as having been implicitly deleted"): 404 with `deleted: true`, left out of lists, and their
  name is free for a new room. Deleting one removes it and answers that same 404, as the docs'
  "your API call has deleted an expired room" says.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import hmac
import json
import re
import secrets
import socket
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from localdev.daily_reference import (
    CLAIM_NAMES,
    KIND_DESCRIPTIONS,
    MAX_PARTICIPANTS,
    ROOM_NAME_MAX,
    ROOMS,
    TOKENS,
    Property,
    accepts,
    config_of,
    shown,
)

RATE_LIMIT_INFO = "rate limit exceeded. Back off and retry."
ERROR_TYPES = {
    400: "invalid-request-error",
    401: "authentication-error",
    403: "forbidden-error",
    404: "not-found",
    405: "invalid-request-error",
    429: "rate-limit-error",
}
ROOM_PATH = re.compile(r"/v1/rooms/([^/]+)")
TOKEN_PATH = re.compile(r"/v1/meeting-tokens/([^/]+)")
INVALID_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")
# The request bodies' own fields (OpenAPI: additionalProperties false on create-room).
CREATE_PARAMETERS = frozenset({"name", "privacy", "properties"})
TOKEN_PARAMETERS = frozenset({"properties"})
SIGNED_ONLY_CLAIMS = ("d", "iat")  # the domain and issue time, not token properties


@dataclass(frozen=True)
class RateLimit:
    """At most `per_second` requests in any 1 s and `per_window` in any `window_seconds`."""

    per_second: int
    per_window: int
    window_seconds: float


@dataclass(frozen=True)
class RateLimits:
    """Daily's documented limits per endpoint class, counted per API key."""

    default: RateLimit = field(default_factory=lambda: RateLimit(20, 100, 5.0))
    delete_room: RateLimit = field(default_factory=lambda: RateLimit(2, 50, 30.0))


@dataclass(frozen=True)
class RequestRecord:
    """One /v1 request the emulator answered; `status` is None when the connection was dropped."""

    method: str
    path: str
    body: Any
    status: int | None
    at: float  # time.monotonic() when the answer was decided


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
        content = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, json.dumps(payload).encode(), content)


class _ApiError(Exception):
    """Raised by request handling to answer with a Daily error body."""

    def __init__(
        self,
        status: int,
        info: str,
        error: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(info)
        self.reply = _Reply.json(status, {**_error_body(status, info, error), **extra}, headers)


@dataclass
class _Fault:
    method: str | None
    path_prefix: str | None
    status: int | None
    body: Any
    headers: dict[str, str]
    delay: float
    malformed: bool
    drop: bool
    times: int

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_prefix is None or _path_matches(path, self.path_prefix)
        )

    def replaces_handling(self) -> bool:
        return self.drop or self.malformed or self.status is not None

    def reply(self) -> _Reply | None:
        if self.drop:
            return None
        if self.malformed:
            return _Reply(
                self.status or 200, b"<html>oops", {"Content-Type": "text/html", **self.headers}
            )
        assert self.status is not None
        body = self.body if self.body is not None else _default_body(self.status)
        return _Reply.json(self.status, body, self.headers)


def _error_body(status: int, info: str, error: str | None = None) -> dict[str, str]:
    kind = error or ERROR_TYPES.get(
        status, "server-error" if status >= 500 else "invalid-request-error"
    )
    return {"error": kind, "info": info}


def _default_body(status: int) -> dict[str, str]:
    """Daily's error body for an injected status (an empty object for non-errors)."""
    if status < 400:
        return {}
    info = {429: RATE_LIMIT_INFO}.get(status, "server error" if status >= 500 else "emulated error")
    return _error_body(status, info)


def _path_matches(path: str, prefix: str) -> bool:
    """Match a prefix given with or without the leading /v1."""
    return path.startswith(prefix) or path.removeprefix("/v1").startswith(prefix)


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


def _not_json(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not a JSON number")


def _json_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object: strict JSON (RFC 8259), so no NaN or Infinity either."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_not_json)
    except ValueError:
        raise _ApiError(400, "request body is not valid JSON", "json-parsing-error") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "request body must be a JSON object")
    return body


def _checked_properties(
    properties: Any, documented: dict[str, Property], now: float
) -> dict[str, Any]:
    """`properties` if each is documented and of its kind (null: unset), and exp is not past."""
    if not isinstance(properties, dict):
        raise _ApiError(400, f"properties was '{shown(properties)}' but should be an object")
    for name, value in properties.items():
        prop = documented.get(name)
        if prop is None:
            raise _ApiError(400, f"unknown parameter '{name}'")
        if value is not None and not accepts(prop.kind, value):
            expected = KIND_DESCRIPTIONS[prop.kind]
            raise _ApiError(400, f"{name} was '{shown(value)}' but should be {expected}")
    exp = properties.get("exp")
    if exp is not None and exp < now:
        past = f"exp was '{shown(exp)}', which is in the past rather than in the future"
        raise _ApiError(400, past)
    return dict(properties)


def _given(body: dict[str, Any], field: str, default: Any) -> Any:
    """The body's field, or `default` when it is absent or null (null leaves a field unset)."""
    value = body.get(field)
    return default if value is None else value


def _checked_parameters(body: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _ApiError(400, f"unknown parameter '{unknown[0]}'")


def _checked_privacy(privacy: Any) -> str:
    if privacy not in ("public", "private"):
        raise _ApiError(400, f"privacy was '{shown(privacy)}' but should be public or private")
    return privacy


def _room_settings(properties: Any, now: float) -> dict[str, Any]:
    """Checked room properties, including Daily's bounds on max_participants."""
    settings = _checked_properties(properties, ROOMS, now)
    count = settings.get("max_participants")
    if count is not None and not 1 <= count <= MAX_PARTICIPANTS:
        raise _ApiError(
            400, f"max_participants was '{shown(count)}' but should be from 1 to {MAX_PARTICIPANTS}"
        )
    return settings


def _timestamp(now: float) -> str:
    """`created_at` as Daily writes it: ISO 8601, UTC, milliseconds, Z."""
    moment = datetime.fromtimestamp(now, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(claims: dict[str, Any], key: str) -> str:
    """An HS256 JWT of `claims` signed with `key`."""
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
    signature = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _b64url_json(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _verified_claims(token: str, key: str) -> dict[str, Any] | None:
    """The payload of an HS256 JWT signed with `key`, or None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    signing_input = f"{parts[0]}.{parts[1]}"
    expected = _b64url(hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        header, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return None
    return claims if isinstance(claims, dict) else None


class DailyEmulator:
    """An in-process HTTP server that behaves like https://api.daily.co/v1 for one API key."""

    def __init__(
        self,
        api_key: str = "emulator-key",
        domain: str = "emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        limits: RateLimits | None = None,
    ) -> None:
        self._api_key = api_key
        self._domain = domain
        self._domain_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{domain}.daily.co"))
        self._address = (host, port)
        self._clock = clock
        self._limits = limits or RateLimits()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._rooms: dict[str, dict[str, Any]] = {}
        self._tokens: list[dict[str, Any]] = []
        self._log: list[RequestRecord] = []
        self._faults: list[_Fault] = []
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._idle = threading.Condition()
        self._in_flight = 0

    def start(self) -> DailyEmulator:
        if self._server is not None:
            raise RuntimeError("the emulator is already started")
        self._server = _Server(self._address, _Handler)
        self._server.emulator = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def set_limits(self, limits: RateLimits) -> None:
        """Replace the rate limits (and forget the windows counted so far)."""
        with self._lock:
            self._limits = limits
            self._windows.clear()

    def set_api_key(self, api_key: str) -> None:
        """Accept only this key from now on, as after a key rotation in the dashboard."""
        with self._lock:
            self._api_key = api_key

    def track(self, delta: int) -> None:
        """Count a request in (+1) or out (-1); `wait_idle` waits for the count to reach 0."""
        with self._idle:
            self._in_flight += delta
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (e.g. one still in an injected delay)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DailyEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self._address[0]}:{self._server.server_address[1]}/v1"

    @property
    def api_key(self) -> str:
        return self._api_key

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def domain_id(self) -> str:
        """The domain's id, as `GET /v1/` answers it and self-signed tokens carry it in `d`."""
        return self._domain_id

    @property
    def rooms(self) -> dict[str, dict[str, Any]]:
        """Room objects by name; expired rooms stay here until deleted or reset."""
        with self._lock:
            return copy.deepcopy(self._rooms)

    @property
    def tokens(self) -> list[dict[str, Any]]:
        """Decoded payloads of the meeting tokens issued."""
        with self._lock:
            return copy.deepcopy(self._tokens)

    @property
    def requests_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def calls(
        self, method: str | None = None, path_prefix: str | None = None
    ) -> list[RequestRecord]:
        """Logged requests filtered by method and path prefix (with or without /v1)."""
        return [
            record
            for record in self.requests_log
            if (method is None or record.method == method.upper())
            and (path_prefix is None or _path_matches(record.path, path_prefix))
        ]

    def reset(self) -> None:
        """Forget rooms, tokens, the log, pending faults and rate-limit windows."""
        with self._lock:
            for collection in (self._rooms, self._tokens, self._log, self._faults, self._windows):
                collection.clear()

    def inject(
        self,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        malformed: bool = False,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """Give the next `times` matching /v1 requests this fault instead of normal handling.

        A fault with only `delay` delays normal handling; `status` answers with `body` (default:
        Daily's error body for it) plus `headers`; `malformed` answers `<html>oops`; `drop` closes
        the connection without answering.
        """
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise ValueError(f"status must be an HTTP status code, not {status!r}")
        if not (isinstance(times, int) and times >= 1) or delay < 0:
            raise ValueError("times must be a positive integer and delay not negative")
        fault = _Fault(
            method.upper() if method else None,
            path_prefix,
            status,
            body,
            dict(headers or {}),
            float(delay),
            bool(malformed),
            bool(drop),
            times,
        )
        with self._lock:
            self._faults.append(fault)

    def _handle(
        self, method: str, target: str, authorization: str | None, raw: bytes
    ) -> _Reply | None:
        """Answer one HTTP request; None means drop the connection."""
        path, query = urlsplit(target).path, urlsplit(target).query
        if path.startswith("/__emulator/"):
            return self._control(method, path)
        fault = self._take_fault(method, path)
        if fault is not None:
            time.sleep(fault.delay)
        if fault is not None and fault.replaces_handling():
            reply = fault.reply()
        else:
            reply = self._api(method, path, query, authorization, raw)
        status = reply.status if reply is not None else None
        record = RequestRecord(method, path, _json_or_none(raw), status, time.monotonic())
        with self._lock:
            self._log.append(record)
        return reply

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _control(self, method: str, path: str) -> _Reply:
        """Serve the unauthenticated, unlogged, unlimited GET /__emulator/state."""
        if path != "/__emulator/state":
            return _ApiError(404, f"unknown emulator route {path}").reply
        if method != "GET":
            return _ApiError(405, f"{path} only accepts GET", headers={"Allow": "GET"}).reply
        log = [asdict(record) for record in self.requests_log]
        return _Reply.json(200, {"rooms": self.rooms, "tokens": self.tokens, "requests_log": log})

    def _api(
        self, method: str, path: str, query: str, authorization: str | None, raw: bytes
    ) -> _Reply:
        route = path.rstrip("/")
        arguments = parse_qs(query)
        try:
            key = self._authenticate(authorization)
            deleting_room = method == "DELETE" and ROOM_PATH.fullmatch(route)
            self._check_rate(key, "delete_room" if deleting_room else "default")
            if route == "/v1":
                handlers = {"GET": self._domain_config}
            elif route == "/v1/rooms":
                handlers = {"POST": lambda: self._create_room(raw)}
            elif match := ROOM_PATH.fullmatch(route):
                name = unquote(match[1])
                handlers = {
                    "GET": lambda: self._find_room(name),
                    "DELETE": lambda: self._delete_room(name),
                }
            elif route == "/v1/meeting-tokens":
                handlers = {"POST": lambda: self._create_token(raw)}
            elif match := TOKEN_PATH.fullmatch(route):
                token = unquote(match[1])
                ignore_nbf = arguments.get("ignoreNbf", [""])[-1].lower() == "true"
                handlers = {"GET": lambda: self._validate_token(token, ignore_nbf)}
            else:
                raise _ApiError(404, f"no such endpoint: {path}")
            if method not in handlers:
                allow = ", ".join(handlers)
                raise _ApiError(
                    405, f"method {method} not allowed on {path}", headers={"Allow": allow}
                )
            return _Reply.json(200, handlers[method]())
        except _ApiError as error:
            return error.reply

    def _authenticate(self, authorization: str | None) -> str:
        if authorization is None:
            raise _ApiError(400, "Authorization header missing", "authorization-header-error")
        scheme, _, key = authorization.partition(" ")
        if scheme != "Bearer" or not key.strip():
            raise _ApiError(400, "bad Authorization header format", "authorization-header-error")
        if key.strip() != self._api_key:
            raise _ApiError(401, "invalid API key", "authentication-error")
        return key.strip()

    def _check_rate(self, key: str, endpoint_class: str) -> None:
        """Count one request against the key's sliding windows, or raise 429 (not counted)."""
        limit: RateLimit = getattr(self._limits, endpoint_class)
        now = self._clock()
        with self._lock:
            stamps = self._windows.setdefault((key, endpoint_class), deque())
            while stamps and stamps[0] <= now - limit.window_seconds:
                stamps.popleft()
            last_second = sum(1 for stamp in stamps if stamp > now - 1.0)
            if last_second >= limit.per_second or len(stamps) >= limit.per_window:
                raise _ApiError(429, RATE_LIMIT_INFO)
            stamps.append(now)

    def _create_room(self, raw: bytes) -> dict[str, Any]:
        body = _json_body(raw)
        now = self._clock()
        _checked_parameters(body, CREATE_PARAMETERS)
        name = body.get("name")
        if name is None:
            name = "".join(secrets.choice(string.ascii_letters) for _ in range(20))
        elif not isinstance(name, str) or not name:
            raise _ApiError(400, f"name was '{shown(name)}' but should be a non-empty string")
        elif len(name) > ROOM_NAME_MAX:
            raise _ApiError(400, f"{name} is too long (room names can be {ROOM_NAME_MAX} long)")
        elif INVALID_NAME_CHARS.search(name):
            raise _ApiError(
                400,
                f"{name} contains invalid characters "
                "(room names can contain A-Z, a-z, 0-9, '-', and '_')",
            )
        privacy = _checked_privacy(_given(body, "privacy", "public"))
        settings = _room_settings(_given(body, "properties", {}), now)
        room = {
            "id": str(uuid.uuid4()),
            "name": name,
            "api_created": True,
            "privacy": privacy,
            "url": f"https://{self._domain}.daily.co/{name}",
            "created_at": _timestamp(now),
            "config": config_of(settings),
        }
        with self._lock:
            existing = self._rooms.pop(name, None)
            if existing is not None and not self._expired(existing, now):
                self._rooms[name] = existing
                raise _ApiError(400, f"a room named {name} already exists")
            self._rooms[name] = room  # a re-used name counts as the newest room
            return copy.deepcopy(room)

    @staticmethod
    def _expired(room: dict[str, Any], now: float) -> bool:
        exp = room["config"].get("exp")
        return exp is not None and now >= exp

    def _find_room(self, name: str) -> dict[str, Any]:
        """The live room, or 404 (with deleted: true once its exp has passed)."""
        with self._lock:
            room = copy.deepcopy(self._rooms.get(name))
        if room is None:
            raise _ApiError(404, f"room {name} not found")
        if self._expired(room, self._clock()):
            raise _ApiError(404, f"room {name} not found", deleted=True)
        return room

    def _delete_room(self, name: str) -> dict[str, Any]:
        """Delete the room. An expired one is deleted too, but answered as not found with
        `deleted: true`, "exactly as above" (reference/rest-api/rooms/delete-room)."""
        now = self._clock()
        with self._lock:
            room = self._rooms.pop(name, None)
        if room is None:
            raise _ApiError(404, f"room {name} not found")
        if self._expired(room, now):
            raise _ApiError(404, f"room {name} not found", deleted=True)
        return {"deleted": True, "name": name}

    def _domain_config(self) -> dict[str, Any]:
        """The domain configuration (reference/rest-api/domain/get-domain-config)."""
        return {"domain_name": self._domain, "domain_id": self._domain_id, "config": {}}

    def _validate_token(self, token: str, ignore_nbf: bool) -> dict[str, Any]:
        """A token signed with this key for this domain, not expired nor early: its properties.
        One this emulator did not mint is self-signed, and must carry r, iat and d."""
        claims = _verified_claims(token, self._api_key)
        if claims is None:
            raise _ApiError(400, "token is not valid")
        if claims.get("d") != self._domain_id:
            raise _ApiError(400, "token is not valid for this domain")
        with self._lock:
            minted = claims in self._tokens
        room, iat = claims.get("r"), claims.get("iat")
        if not minted and not (isinstance(room, str) and _is_number(iat)):
            raise _ApiError(400, "a self-signed token needs the claims r, iat and d")
        now = self._clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if isinstance(exp, int | float) and exp <= now:
            raise _ApiError(400, "token has expired")
        if isinstance(nbf, int | float) and nbf > now and not ignore_nbf:
            raise _ApiError(400, "token is not valid yet (nbf is in the future)")
        return {
            CLAIM_NAMES.get(name, name): value
            for name, value in claims.items()
            if name not in SIGNED_ONLY_CLAIMS
        }

    def _create_token(self, raw: bytes) -> dict[str, str]:
        """A JWT whose payload holds the given properties by their short claim names, d and iat."""
        body = _json_body(raw)
        now = self._clock()
        _checked_parameters(body, TOKEN_PARAMETERS)
        properties = _checked_properties(_given(body, "properties", {}), TOKENS, now)
        claims: dict[str, Any] = {
            TOKENS[name].claim or name: value
            for name, value in properties.items()
            if value is not None
        }
        claims.update(d=self._domain_id, iat=int(now))
        with self._lock:
            self._tokens.append(copy.deepcopy(claims))
        return {"token": _jwt(claims, self._api_key)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: DailyEmulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        """End the kept-alive connections too: a stopped emulator answers nothing more."""
        with self.connections_lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as Daily's API; every answer has a length

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def _dispatch(self) -> None:
        self.server.emulator.track(+1)
        try:
            self._respond()
        finally:
            self.server.emulator.track(-1)

    def _body(self) -> bytes:
        """The request body, by Content-Length or in chunks: read whole, so the next request on
        a kept-alive connection starts where it should."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # the CRLF after the chunk
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailer fields
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _respond(self) -> None:
        raw = self._body()
        emulator = self.server.emulator
        reply = emulator._handle(self.command, self.path, self.headers.get("Authorization"), raw)
        if reply is None:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except ConnectionError:  # the client gave up, e.g. timed out during an injected delay
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr logging."""


def main(argv: list[str] | None = None) -> None:
    """Run the emulator in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Run the Daily REST API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--api-key", default="emulator-key")
    parser.add_argument("--domain", default="emulator")
    args = parser.parse_args(argv)
    with DailyEmulator(args.api_key, args.domain, args.host, args.port) as daily:
        print(f"Daily emulator listening on {daily.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Daily emulator stopped", flush=True)


if __name__ == "__main__":
    main()
