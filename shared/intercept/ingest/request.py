"""The HTTP request as API Gateway (HTTP API, payload format 2.0) delivers it, and the answers.

Header names are lower-cased; the body is the exact bytes the sender posted (base64-decoded
when API Gateway marks it so). Nothing here parses JSON: verifiers need the raw bytes first.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from intercept.errors import BadRequest


@dataclass(frozen=True)
class HttpRequest:
    """One inbound request, reduced to what Ingest needs."""

    method: str
    path: str
    raw_path: str
    route_key: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    domain: str = ""
    stage: str = ""
    request_id: str = ""
    path_params: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        """A header's value ('' when absent); names are case-insensitive."""
        return self.headers.get(name.lower(), "")

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased ('' when absent)."""
        return self.header("content-type").split(";", 1)[0].strip().lower()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _headers(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(name).lower(): value if isinstance(value, str) else str(value)
        for name, value in raw.items()
        if value is not None
    }


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise BadRequest("the request body must be text or base64 text")
    if event.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is marked base64-encoded but is not valid base64") from None
    return body.encode("utf-8", "surrogatepass")


def _route_path(raw_path: str, stage: str) -> str:
    """The path without the stage prefix that execute-api URLs of named stages carry."""
    if stage and stage != "$default" and raw_path.startswith(f"/{stage}/"):
        return raw_path[len(stage) + 1 :]
    return raw_path


def parse_event(event: Any) -> HttpRequest:
    """Read an API Gateway HTTP API (payload 2.0) event into an `HttpRequest`."""
    if not isinstance(event, Mapping):
        raise BadRequest("the event is not an API Gateway HTTP API request (payload format 2.0)")
    context = event.get("requestContext")
    context = context if isinstance(context, Mapping) else {}
    http = context.get("http")
    http = http if isinstance(http, Mapping) else {}
    raw_path = _text(event.get("rawPath")) or _text(http.get("path")) or "/"
    stage = _text(context.get("stage"))
    params = event.get("pathParameters")
    return HttpRequest(
        method=(_text(http.get("method")) or "GET").upper(),
        path=_route_path(raw_path, stage),
        raw_path=raw_path,
        route_key=_text(event.get("routeKey")),
        query=_text(event.get("rawQueryString")),
        headers=_headers(event.get("headers")),
        body=_body(event),
        domain=_text(context.get("domainName")),
        stage=stage,
        request_id=_text(context.get("requestId")),
        path_params={str(k): str(v) for k, v in params.items()}
        if isinstance(params, Mapping)
        else {},
    )


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }
