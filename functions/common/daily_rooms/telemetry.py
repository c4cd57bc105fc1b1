"""The one logger and the one metrics object of every function (Powertools; the service name,
and so the metrics' `service` dimension, is POWERTOOLS_SERVICE_NAME: the stack's name)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, single_metric
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "DailyRooms"
logger = Logger()
metrics = Metrics(namespace=NAMESPACE)
# Counted also per function and version (Lambda's own variables), for the rollback alarms, which
# must see the new version's faults only, not the old version's during a canary.
PER_VERSION = {"InternalErrors"}


def version_dimensions() -> dict[str, str]:
    """The running function's name and version (`$LATEST` outside a published version)."""
    return {
        "function_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"),
        "function_version": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    }


def count(name: str, value: int = 1) -> None:
    """Add `value` to the Count metric `name` of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if name in PER_VERSION:
        with single_metric(name, MetricUnit.Count, value, namespace=NAMESPACE) as metric:
            for dimension, dimension_value in version_dimensions().items():
                metric.add_dimension(name=dimension, value=dimension_value)
