"""Score: signals, churn / health / expansion scores with reasons, and playbook actions.

Triggered by the profiles table's stream (filtered to account profiles and daily activity)
and by the ScoringQueue that the scheduled planner fills. The model is loaded once per
container, at init. Failed items are reported (ReportBatchItemFailures): SQS messages are
retried and then moved to the ScoringDLQ; stream records are retried from the first failure
and then reported to the ScoreStreamDLQ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from intercept.model.scoring import ChurnModel
from intercept.observability import logger, metrics, tracer
from intercept.scoring.service import handle_batch

MODEL = ChurnModel.load()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(model_version=MODEL.version)
    return handle_batch(event.get("Records", []), MODEL, datetime.now(UTC))
