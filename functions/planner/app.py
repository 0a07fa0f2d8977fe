"""Planner: the scheduled scoring run. Enqueues every account onto the ScoringQueue.

A failure raises, so EventBridge's retry policy re-runs the plan; scoring is idempotent per
account and as-of time, so a re-run only repeats work.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from intercept.observability import logger, tracer
from intercept.scoring.planner import plan_scoring_run


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    as_of = _event_time(event)
    return {"accounts": plan_scoring_run(as_of), "as_of": as_of.isoformat()}


def _event_time(event: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return datetime.now(UTC)
