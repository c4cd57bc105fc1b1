"""`python -m localdev.stack`: AWS (moto) and Daily (the emulator) for `sam local invoke`, offline.

It starts moto's server and the Daily emulator on 127.0.0.1 at fixed ports, seeds what the
template creates (the Daily key, origin-verify and room-naming secrets, the state table), and writes
`events/env.local.json` in SAM's `--env-vars` format. That file gives each function in
template.yaml every variable the template declares for it (Globals plus its own), valued for this
stack: the variables the local stack knows (endpoint URLs, secret and table names) point at it,
the others keep their template value or their parameter's default. SAM passes a function only the
variables its template declares, so the file holds nothing else; the Daily API key stays in moto.

The origin-verify secret holds `sam-local-origin-verify`, the value the sample events carry, so
the functions' CloudFront check passes for them as it does behind CloudFront.

With `sam local invoke ... --docker-network host` the function's container shares the host's
network and reaches 127.0.0.1 (Linux; Docker Desktop needs host networking turned on).
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from cfnlint.decode import cfn_yaml

from localdev.local_stack import LocalStack, start_local_stack

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"
ENV_FILE = ROOT / "events" / "env.local.json"
SAM_LOCAL_ORIGIN_VERIFY = "sam-local-origin-verify"  # the events' x-origin-verify header
MOTO_PORT = 5050
DAILY_PORT = 8787


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """template.yaml as plain data (`!Ref X` becomes {"Ref": "X"})."""
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def declared_variables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each API function's environment as the template declares it: Globals, then its own.

    The PreTraffic check is left out: it reports to CodeDeploy, which has no local stand-in."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    functions = {}
    for name, resource in template["Resources"].items():
        events = resource.get("Properties", {}).get("Events", {}).values()
        if resource["Type"] == "AWS::Serverless::Function" and any(
            event["Type"] == "HttpApi" for event in events
        ):
            own = resource.get("Properties", {}).get("Environment", {})
            functions[name] = {**shared.get("Variables", {}), **own.get("Variables", {})}
    return functions


def _value(variable: str, declared: Any, template: dict[str, Any], local: dict[str, str]) -> str:
    """The variable's value on the local stack, or its template value, as SAM would pass it."""
    if variable in local:
        return local[variable]
    if isinstance(declared, str | int | float | bool):
        return str(declared).lower() if isinstance(declared, bool) else str(declared)
    join = declared.get("Fn::Join") if isinstance(declared, dict) else None
    if join is not None:  # a list parameter joined back into text, as AllowedOrigins is
        delimiter, parts = join
        defaults = _value(variable, parts, template, local) if isinstance(parts, dict) else None
        if defaults is not None:
            return delimiter.join(item.strip() for item in defaults.split(",") if item.strip())
    reference = declared.get("Ref") if isinstance(declared, dict) else None
    parameter = template.get("Parameters", {}).get(reference)
    if parameter is not None and "Default" in parameter:
        return str(parameter["Default"])
    raise ValueError(
        f"{variable} is {json.dumps(declared)} in template.yaml, which the local stack cannot "
        "provide: add it to localdev.local_stack.local_environment()"
    )


def environment_file(template: dict[str, Any], local: dict[str, str]) -> dict[str, dict[str, str]]:
    """SAM's --env-vars document: {function: {variable: value}} for every declared variable."""
    return {
        function: {name: _value(name, value, template, local) for name, value in variables.items()}
        for function, variables in declared_variables(template).items()
    }


def start_sam_local_stack(moto_port: int = MOTO_PORT, daily_port: int = DAILY_PORT) -> LocalStack:
    """The local stack with the secrets as a deployed stack holds them for the sample events."""
    stack = start_local_stack(port_moto=moto_port, port_daily=daily_port)
    assert stack.daily is not None
    daily = stack.daily
    key = {"apiKey": stack.api_key, "domainId": daily.domain_id, "domainName": daily.domain}
    stack.set_secret(json.dumps(key))
    stack.client("secretsmanager").put_secret_value(
        SecretId=stack.env["ORIGIN_VERIFY_SECRET"], SecretString=SAM_LOCAL_ORIGIN_VERIFY
    )
    stack.origin_secret = SAM_LOCAL_ORIGIN_VERIFY
    return stack


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether another program listens on the port (moto's server would wait for it forever)."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def _stop(signum: int, frame: FrameType | None) -> None:
    """Treat SIGTERM like Ctrl-C."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.stack", description=__doc__)
    parser.add_argument("--moto-port", type=int, default=MOTO_PORT, help="moto's port (5050)")
    parser.add_argument("--daily-port", type=int, default=DAILY_PORT, help="emulator port (8787)")
    parser.add_argument("--env-file", type=Path, default=ENV_FILE, help="where to write the file")
    args = parser.parse_args(argv)
    for option, port in (("--moto-port", args.moto_port), ("--daily-port", args.daily_port)):
        if port and port_in_use(port):
            print(
                f"Port {port} on 127.0.0.1 is already in use: stop the other program or pick "
                f"another port with {option}.",
                file=sys.stderr,
            )
            return 1
    signal.signal(signal.SIGTERM, _stop)
    stack = start_sam_local_stack(args.moto_port, args.daily_port)
    try:
        document = environment_file(load_template(), stack.env)
        args.env_file.write_text(json.dumps(document, indent=2) + "\n")
        assert stack.daily is not None
        print(f"AWS (moto) at {stack.moto_url}")
        print(f"Daily emulator at {stack.daily.base_url}")
        print(f"Wrote {args.env_file} for {', '.join(document)}")
        print(
            f"Ready for: sam local invoke <Function> -e events/<function>/<event>.json "
            f"--env-vars {args.env_file} --docker-network host"
        )
        print("Press Ctrl-C to stop.", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
