"""`python -m localdev [--host H] [--port N] [--no-key] [--verbose]`: the demo on http://127.0.0.1:3000.

Offline by default (moto, the Daily emulator and a local stand-in for Daily Prebuilt); with
DAILY_API_KEY set, rooms are real Daily rooms. See server.py.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from types import FrameType

from localdev import call_library
from localdev.local_stack import start_local_stack
from localdev.server import DevServer


def _stop(signum: int, frame: FrameType | None) -> None:
    """Treat SIGTERM like Ctrl-C, so both shut down cleanly."""
    raise KeyboardInterrupt


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localdev", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="port to listen on (3000)")
    parser.add_argument(
        "--no-key",
        action="store_true",
        help="offline, with no Daily key in the secret: the page shows its setup banner",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also print the functions' JSON logs and metrics, and every static file served",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server = DevServer(args.host, args.port, verbose=args.verbose)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                f"Port {args.port} on {args.host} is already in use: stop the other server "
                "or pick another port with --port.",
                file=sys.stderr,
            )
        else:
            print(f"Cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    stack = None
    try:
        server.hide_function_output()
        real_key = None if args.no_key else os.environ.get("DAILY_API_KEY") or None
        stack = start_local_stack(daily_api_key=real_key)
        if args.no_key:
            stack.set_configured(False)
        server.use_stack(stack)
        server.call_library = call_library.load_for_page()
        print(f"Demo running at {server.url}")
        print(f"Mode: {stack.mode}")
        if args.no_key:
            print("No Daily key in the secret (--no-key): room creation is off, joining works.")
        elif stack.daily is not None:
            print("Calls open a local stand-in for Daily Prebuilt; DAILY_API_KEY gives real ones.")
        print(server.call_library.summary())
        print("Press Ctrl-C to stop.", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        # A second Ctrl-C while the servers shut down would only print a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.server_close()
        if stack is not None:
            stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
