"""Debian's Chromium as the browser tests and the benchmark launch it, headless and offline."""

EXECUTABLE = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# closed network refuses; as root it also needs --no-sandbox.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
