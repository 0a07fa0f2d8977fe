"""Requests as senders and API Gateway make them: for samples, benchmarks, tests and demos.

`http_event` builds the API Gateway HTTP API (payload 2.0) event a request becomes; the
``*_headers`` functions sign a body exactly as each vendor does.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from intercept.ingest.signatures import sign_hub, sign_hubspot_v3, sign_stripe, sign_zendesk

DEFAULT_DOMAIN = "ingest.example.com"
_ROUTES = (
    (re.compile(r"^/v1/(?P<call>[^/]+)$"), "/v1/{call}"),
    (re.compile(r"^/webhooks/generic/(?P<source>[^/]+)$"), "/webhooks/generic/{source}"),
)


def _route(method: str, path: str) -> tuple[str, dict[str, str] | None]:
    for pattern, template in _ROUTES:
        match = pattern.match(path)
        if match:
            return f"{method} {template}", match.groupdict()
    return f"{method} {path}", None


def http_event(
    method: str,
    path: str,
    *,
    body: bytes | str = b"",
    headers: Mapping[str, str] | None = None,
    query: str = "",
    stage: str = "$default",
    domain: str = DEFAULT_DOMAIN,
    base64_body: bool | None = None,
    time_epoch_ms: int | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API (payload 2.0) event for one request.

    The body is passed base64-encoded when asked, or when it is not UTF-8 text (as API
    Gateway does for binary bodies). With a named `stage` the raw path carries it, as on
    execute-api URLs.
    """
    raw = body.encode() if isinstance(body, str) else body
    if base64_body is None:
        try:
            raw.decode("utf-8")
            base64_body = False
        except UnicodeDecodeError:
            base64_body = True
    names = {"host": domain, **{k.lower(): v for k, v in (headers or {}).items()}}
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    route_key, params = _route(method, path)
    epoch_ms = time_epoch_ms if time_epoch_ms is not None else int(time.time() * 1000)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": names,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "ingestapi",
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": names.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:20],
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000)),
            "timeEpoch": epoch_ms,
        },
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode("utf-8"),
        "isBase64Encoded": base64_body,
    }
    if params:
        event["pathParameters"] = params
    return event


def basic_auth(write_key: str) -> str:
    """The Authorization header Segment libraries send: the write key, an empty password."""
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


def stripe_headers(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "stripe-signature": sign_stripe(body, secret, timestamp),
    }


def zendesk_headers(body: bytes, secret: str, timestamp: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": sign_zendesk(body, secret, timestamp),
        "x-zendesk-webhook-signature-timestamp": timestamp,
    }


def hubspot_headers(body: bytes, secret: str, *, uri: str, timestamp_ms: int) -> dict[str, str]:
    signature = sign_hubspot_v3(body, secret, method="POST", uri=uri, timestamp_ms=timestamp_ms)
    return {
        "content-type": "application/json",
        "x-hubspot-signature-v3": signature,
        "x-hubspot-request-timestamp": str(timestamp_ms),
    }


def intercom_headers(body: bytes, secret: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-hub-signature": sign_hub(body, secret, algorithm="sha1"),
    }


def generic_headers(body: bytes, secret: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-hub-signature-256": sign_hub(body, secret, algorithm="sha256"),
    }
