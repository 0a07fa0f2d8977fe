"""Merge: fold ingested canonical events into people, accounts and daily activity.

Trigger: IngestQueue (SQS), up to 100 messages per batch, ``ReportBatchItemFailures``.

Returns the ids of messages that were not folded: poison messages (not the IngestQueue
contract; their reason is logged without personal data) and messages whose fold failed.
SQS redelivers only those; after ``maxReceiveCount`` receives they move to the DLQ.

A raised exception means the whole batch is redelivered after the visibility timeout. That
is safe: every folded event was marked in the same transaction as its counters, so on
redelivery it is skipped by its ``event_id``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from intercept.observability import logger, metrics, tracer
from intercept.profiles.consumer import fold_messages


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return fold_messages(event.get("Records", [])).response()
