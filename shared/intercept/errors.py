"""Domain errors and the one place where they become HTTP answers.

Every error carries a short machine-readable code and a detail that says what was wrong and
what is accepted. Details never contain secrets, signatures or personal data.
"""

from __future__ import annotations

import json
from typing import Any


class InterceptError(Exception):
    """Base class for every error the package raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class ConfigurationError(InterceptError):
    """The deployment is missing a setting or a resource; not the caller's fault."""

    code = "configuration_error"


class BadRequest(InterceptError):
    """The request is malformed: the detail names the field and what is accepted."""

    status = 400
    code = "bad_request"


class Unauthorized(InterceptError):
    """Missing or wrong credentials or signature. The detail stays vague on purpose."""

    status = 401
    code = "unauthorized"


class NotFound(InterceptError):
    status = 404
    code = "not_found"


class MethodNotAllowed(InterceptError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(InterceptError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(InterceptError):
    status = 415
    code = "unsupported_media_type"


class Conflict(InterceptError):
    status = 409
    code = "conflict"


class DependencyFailure(InterceptError):
    """An AWS call failed: answer 5xx so the sender retries; nothing was acknowledged."""

    status = 503
    code = "dependency_failure"


class ModelMismatch(InterceptError):
    """The packaged model does not match the code or the libraries that load it."""

    code = "model_mismatch"


def error_body(error: InterceptError) -> dict[str, Any]:
    """The small JSON body every API answers errors with."""
    body: dict[str, Any] = {"error": error.code, "detail": error.detail}
    if error.context.get("accepted") is not None:
        body["accepted"] = error.context["accepted"]
    return body


def http_error_response(error: InterceptError) -> dict[str, Any]:
    """Map a domain error to an API Gateway HTTP API (payload v2) response."""
    return {
        "statusCode": error.status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(error_body(error)),
    }
