"""The one logger and the one metrics object of every function (Powertools; the service name,
and so the metrics' `service` dimension, is POWERTOOLS_SERVICE_NAME: the stack's name)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "DailyRooms")


def count(name: str, value: int = 1) -> None:
    """Add `value` to the Count metric `name` of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
