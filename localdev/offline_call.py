"""The offline call of `make dev`: a local stand-in for Daily Prebuilt, framed through daily-js's
own `dailyConfig.proxyUrl`.

Why this way. daily-js builds the frame's address itself (0.92.2, `assembleMeetingUrl` and `load`
in dist/daily.js): the room URL plus `?emb=<callClientId>&embHref=…`. For a host under one of its
base domains (daily.co, dailywebrtc.com, dailywebrtc.net) it then tries up to three candidates,
swapping the base domain, 25 s each. Two documented switches make it frame something else:

- a room URL outside those domains is framed as given, with no fallback. The API and the join
  field would then carry room URLs that production never has;
- `dailyConfig.proxyUrl` (Daily's "Advanced Firewall Control": daily-js sends what would go to
  Daily's web domains to a proxy). The frame becomes `<proxyUrl>/<room URL without https://>`
  and the base-domain fallback is off.

The dev server uses the second, so rooms keep their real shape (https://emulator.daily.co/<name>),
the share and invite links are the ones production shows, and daily-js, not the page, decides what
the frame loads. The dev server plays the proxy for the emulator's rooms only: it answers them with
`prebuilt_standin/`, a page that speaks daily-js's frame protocol (window messages of kind
`iframe-call-message`: `loaded`; `join-meeting` -> `access-state-updated` and `joined-meeting`;
`lib-room-info` (daily-js's `room()`) -> the room's id, name and config; `leave-meeting` ->
`left-meeting`; `participant-joined` and `participant-left` for the same room in other windows of
the browser; a fatal `error` for a room that does not exist and at the room's `exp`).

The page learns the proxy URL from a <meta name="daily-proxy-url"> that the dev server adds to
index.html when it runs offline. Production's index.html has none, so a deployed page always
talks to Daily; the dev server's CSP adds `frame-src 'self'` in offline mode only.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from localdev.daily_emulator import DailyEmulator

PROXY_PATH = "/__daily__"
ASSETS = Path(__file__).resolve().parent / "prebuilt_standin"
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# The stand-in runs its own script and style files, inside the page only (never framed elsewhere).
STANDIN_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _not_found() -> Answer:
    return Answer(404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not found.\n")


class OfflineCall:
    """Stands in for Daily Prebuilt for the rooms of one Daily emulator."""

    def __init__(self, daily: DailyEmulator):
        self.daily = daily

    @property
    def room_host(self) -> str:
        return f"{self.daily.domain}.daily.co"

    def meta_tag(self) -> bytes:
        """What index.html gets before </head>: daily-js's proxy URL and the rooms it is for."""
        return (
            f'<meta name="daily-proxy-url" content="{PROXY_PATH}" '
            f'data-room-hosts="{self.room_host}">\n'
        ).encode()

    def answer(self, path: str) -> Answer:
        """Answer GET `path` under PROXY_PATH: a stand-in asset or a room's stand-in page."""
        parts = unquote(path).removeprefix(PROXY_PATH + "/").rstrip("/").split("/")
        if len(parts) == 2 and parts[0] == "assets":
            asset = ASSETS / parts[1]
            if asset.suffix in ASSET_TYPES and asset.parent == ASSETS and asset.is_file():
                headers = {**STANDIN_HEADERS, "Content-Type": ASSET_TYPES[asset.suffix]}
                return Answer(200, headers, asset.read_bytes())
        elif len(parts) == 2 and parts[0] == self.room_host and parts[1]:
            return self._room_page(parts[1])
        return _not_found()

    def _room_page(self, name: str) -> Answer:
        """The stand-in for one room: open until its `exp`, or missing (unknown or expired).

        An open room's page carries what daily-js's `room()` answers after a join: the room's id,
        name and config (the properties set on it, as Daily's REST API gives them)."""
        room = self.daily.rooms.get(name)
        exp = room["config"].get("exp") if room else None
        missing = room is None or (exp is not None and exp <= time.time())
        info = "" if missing else json.dumps({k: room[k] for k in ("id", "name", "config")})
        page = (ASSETS / "room.html").read_text()
        values = {
            "{{room}}": html.escape(name),
            "{{state}}": "missing" if missing else "open",
            "{{exp}}": str(exp or ""),
            "{{info}}": html.escape(info),
        }
        for placeholder, value in values.items():
            page = page.replace(placeholder, value)
        headers = {**STANDIN_HEADERS, "Content-Type": "text/html; charset=utf-8"}
        return Answer(200, headers, page.encode())
