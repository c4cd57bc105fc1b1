"""Invoke one handler as Lambda's Python runtime does: `python bootstrap.py HANDLER EVENT RESULT`.

test_sam_local.py copies this file into a runtime folder next to the function's code and the
layer's package (as /var/runtime, /var/task and /opt/python are laid out in the container) and
runs it with exactly the environment `sam local invoke` would give the function. It imports
nothing from the project: the handler must find everything it needs where Lambda would put it.
"""

import importlib
import json
import os
import sys
import time
import uuid


class Context:
    """The context object's documented attributes, from the runtime's environment variables."""

    def __init__(self) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.aws_request_id = str(uuid.uuid4())
        region = os.environ["AWS_REGION"]
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:123456789012:function:{self.function_name}"
        )
        self._deadline = time.monotonic() + float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    handler, event_path, result_path = sys.argv[1:4]
    module_name, function_name = handler.rsplit(".", 1)
    with open(event_path) as event_file:
        event = json.load(event_file)
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(event, Context())
    with open(result_path, "w") as result_file:
        json.dump(result, result_file)


if __name__ == "__main__":
    main()
