"""Dispatch: deliver actions from the Slack, e-mail and webhook queues.

Each SQS record's body is one Action (raw SNS delivery). Records are handled one by one and
failures reported per record (ReportBatchItemFailures): a record whose handler raises goes
back to its queue, is retried after the visibility timeout and moves to the channel's DLQ after
maxReceiveCount receives; the rest of the batch is deleted. Raising means "may succeed later"
(timeouts, 429, 5xx, throttling, a DynamoDB outage, a malformed body that ends in the DLQ for
inspection). A permanent refusal (other 4xx) or a missing endpoint is recorded on the action
record and not raised, so it is not retried. Delivery is idempotent on the action id.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from intercept.dispatch.service import Dispatcher
from intercept.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    dispatcher = Dispatcher.from_settings()
    dispatcher.register_context(context)

    def deliver(record: SQSRecord) -> None:
        dispatcher.handle(record.body)

    return dict(
        process_partial_response(
            event=event, record_handler=deliver, processor=processor, context=context
        )
    )
