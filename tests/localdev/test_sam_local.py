"""`sam local invoke` with no AWS account and without Docker, as `make test` runs it anywhere.

`python -m localdev.stack` runs as a subprocess and writes the env file. Each file in events/
then runs through its function's handler in a fresh Python process, with the code laid out as
in the Lambda container (the function's folder, the layer's package) and exactly the
environment SAM would pass it: SAM's own AWS_* variables (computed by samcli itself), then the
variables template.yaml declares for the function, overridden by the env file.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from samcli.local.lambdafn.env_vars import EnvironmentVariables

from localdev.stack import SAM_LOCAL_ORIGIN_VERIFY, declared_variables, load_template
from tests.helpers import EVENTS, ROOT, event_files, load_event, start_in_foreground

TEMPLATE = load_template()
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
LAYER_PACKAGE = ROOT / "functions" / "common" / "daily_rooms"


@dataclass
class SamStack:
    env_file: Path
    document: dict[str, dict[str, str]]
    output: str

    def secret(self, variable: str) -> str:
        """A secret's value, read from moto as the functions read it."""
        env = self.document["HealthFunction"]
        client = boto3.client(
            "secretsmanager",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="defaultkey",
            aws_secret_access_key="defaultsecret",
        )
        return client.get_secret_value(SecretId=env[variable])["SecretString"]


@pytest.fixture(scope="module")
def sam_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamStack]:
    env_file = tmp_path_factory.mktemp("sam") / "env.local.json"
    command = [sys.executable, "-m", "localdev.stack", "--moto-port", "0", "--daily-port", "0"]
    process = start_in_foreground(
        [*command, "--env-file", str(env_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = ""
    while "Ctrl-C" not in output:
        line = process.stdout.readline()
        if not line:
            process.kill()
            pytest.fail(f"the stack did not start: {output}{process.communicate()[1]}")
        output += line
    yield SamStack(env_file, json.loads(env_file.read_text()), output)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (0, "")
    assert "Stopped." in stdout


def function_for(event_file: str) -> str:
    """The function whose code folder is named like the event's folder (create_room, health)."""
    folder = Path(event_file).parts[0]
    for name, resource in TEMPLATE["Resources"].items():
        code = resource.get("Properties", {}).get("CodeUri", "")
        if resource["Type"] == "AWS::Serverless::Function" and Path(code).name == folder:
            return name
    raise AssertionError(f"no function has its code in a folder named {folder}")


def sam_environment(function: str, env_file: dict[str, dict[str, str]]) -> dict[str, str]:
    """What `sam local invoke <function> --env-vars <file>` sets in the container."""
    properties = TEMPLATE["Resources"][function]["Properties"]
    settings = {**TEMPLATE["Globals"]["Function"], **properties}
    overrides = {**env_file.get("Parameters", {}), **env_file.get(function, {})}
    variables = EnvironmentVariables(
        function,
        settings["MemorySize"],
        settings["Timeout"],
        settings["Handler"],
        variables=declared_variables(TEMPLATE)[function],
        shell_env_values={},
        override_values=overrides,
        aws_creds={},
    )
    return variables.resolve()


def invoke(function: str, event_file: str, env_file: dict, tmp_path: Path) -> dict[str, Any]:
    """Run the handler on the event in a new process laid out like the Lambda container."""
    properties = TEMPLATE["Resources"][function]["Properties"]
    task, layer, runtime = tmp_path / "var" / "task", tmp_path / "opt" / "python", tmp_path / "rt"
    shutil.copytree(ROOT / properties["CodeUri"], task)
    shutil.copytree(LAYER_PACKAGE, layer / LAYER_PACKAGE.name)
    runtime.mkdir()
    shutil.copy(BOOTSTRAP, runtime / "bootstrap.py")
    environment = {**sam_environment(function, env_file), "PYTHONPATH": f"{task}:{layer}"}
    result = tmp_path / "result.json"
    arguments = [properties["Handler"], str(EVENTS / event_file), str(result)]
    completed = subprocess.run(
        [sys.executable, str(runtime / "bootstrap.py"), *arguments],
        cwd=task,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(result.read_text())


# --- the env file ----------------------------------------------------------------------------


def test_env_file_gives_each_function_exactly_the_variables_it_declares(
    sam_stack: SamStack,
) -> None:
    declared = declared_variables(TEMPLATE)
    assert {name: set(env) for name, env in sam_stack.document.items()} == {
        name: set(variables) for name, variables in declared.items()
    }


def test_env_file_points_the_functions_at_the_local_stack(sam_stack: SamStack) -> None:
    create = sam_stack.document["CreateRoomFunction"]
    assert f"AWS (moto) at {create['AWS_ENDPOINT_URL']}\n" in sam_stack.output
    assert f"Daily emulator at {create['DAILY_API_URL']}\n" in sam_stack.output
    assert create["ROOM_TTL_SECONDS"] == str(TEMPLATE["Parameters"]["RoomTtlSeconds"]["Default"])


def test_origin_verify_secret_matches_the_sample_events(sam_stack: SamStack) -> None:
    assert sam_stack.secret("ORIGIN_VERIFY_SECRET") == SAM_LOCAL_ORIGIN_VERIFY
    for event_file in event_files():
        assert load_event(event_file)["headers"]["x-origin-verify"] == SAM_LOCAL_ORIGIN_VERIFY


def test_env_file_holds_no_api_key(sam_stack: SamStack) -> None:
    key = json.loads(sam_stack.secret("DAILY_API_KEY_SECRET"))["apiKey"]
    assert key
    assert key not in sam_stack.env_file.read_text()


# --- every event through its handler ---------------------------------------------------------


def check_intent(event_file: str, status: int, headers: dict, body: dict) -> None:
    """The answer the event was written for (by its name), or at least a clean JSON answer."""
    stem = Path(event_file).stem
    assert status < 500, body
    if status >= 400:
        assert set(body) == {"error", "message", "requestId"}
        assert body["requestId"] == load_event(event_file)["requestContext"]["requestId"]
    if "wrong_method" in stem:
        assert (status, body["error"], headers.get("Allow")) == (405, "method_not_allowed", "POST")
    elif "bad_body" in stem:
        assert (status, body["error"]) == (400, "invalid_request")
    elif stem.startswith("create"):
        assert status == 201, body
        assert body["url"].endswith("/" + body["name"])
    elif stem.startswith("health"):
        ttl = {"min": 60, "max": 3600, "default": 300}  # the template's parameter defaults
        assert (status, body) == (200, {"configured": True, "ttl": ttl})


@pytest.mark.parametrize("event_file", event_files())
def test_event_runs_through_its_handler_as_sam_local_invoke_would(
    sam_stack: SamStack, event_file: str, tmp_path: Path
) -> None:
    function = function_for(event_file)
    result = invoke(function, event_file, sam_stack.document, tmp_path)

    headers = result.get("headers") or {}
    assert headers["Content-Type"] == "application/json"
    body = json.loads(result["body"])
    check_intent(event_file, result["statusCode"], headers, body)
    if result["statusCode"] == 201:  # the room exists on the emulator the env file points at
        daily_url = sam_stack.document[function]["DAILY_API_URL"]
        key = json.loads(sam_stack.secret("DAILY_API_KEY_SECRET"))["apiKey"]
        auth = {"Authorization": f"Bearer {key}"}
        room = requests.get(f"{daily_url}/rooms/{body['name']}", headers=auth, timeout=5).json()
        assert (room["url"], room["config"]["exp"]) == (body["url"], body["exp"])


def test_every_function_has_a_sample_event() -> None:
    functions = {function_for(event_file) for event_file in event_files()}
    assert functions == set(declared_variables(TEMPLATE))


@pytest.mark.parametrize("option", ["--moto-port", "--daily-port"])
def test_a_busy_port_is_named_instead_of_hanging(option: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        other = "--daily-port" if option == "--moto-port" else "--moto-port"
        completed = subprocess.run(
            [sys.executable, "-m", "localdev.stack", option, str(port), other, "0"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in completed.stderr
    assert option in completed.stderr
