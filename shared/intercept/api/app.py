"""The read API: one resolver, the routers of each view, authentication and error mapping.

In AWS the HTTP API's IAM authorizer guards every route; the handler also accepts a bearer
token from the configured API keys, which is how the local runtime and `intercept serve` are
protected. Domain errors become `{"error", "detail"}` bodies here and nowhere else.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from intercept.api.people import router as people_router
from intercept.api.views import router as views_router
from intercept.errors import InterceptError, NotFound, Unauthorized, error_body
from intercept.observability import logger
from intercept.secrets import load_secrets


def _authenticated(event: Any) -> bool:
    authorizer = (event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    if authorizer.get("iam"):
        return True
    header = event.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    keys = load_secrets().api_keys
    return any(hmac.compare_digest(token.encode(), key.encode()) for key in keys)


def require_auth(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    if not _authenticated(app.current_event):
        logger.info("rejected request", extra={"reason": "missing or unknown api key"})
        raise Unauthorized("send 'Authorization: Bearer <api key>'")
    return next_middleware(app)


resolver = APIGatewayHttpResolver()
resolver.use(middlewares=[require_auth])
resolver.include_router(people_router)
resolver.include_router(views_router)


def _json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


@resolver.exception_handler(InterceptError)
def handle_domain_error(error: InterceptError) -> Response:
    if error.status >= 500:
        logger.exception("failed request", extra={"error": error.code})
    return _json_response(error.status, error_body(error))


@resolver.not_found
def handle_not_found(_: Exception) -> Response:
    return _json_response(404, error_body(NotFound("no such route; see docs/api.md")))
