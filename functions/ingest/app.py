"""Ingest function: Segment-compatible calls and signed vendor webhooks (HTTP API, v2).

Everything happens in `intercept.ingest.service.handle`; this module wires observability.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from intercept.ingest.service import handle
from intercept.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)
