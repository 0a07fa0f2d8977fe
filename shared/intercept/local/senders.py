"""Sign requests exactly as each vendor signs its webhooks, for the demo, tests and benches.

These are the senders' side of the schemes Ingest verifies: Stripe (`t=...,v1=...` over
``"{t}.{body}"``), Zendesk (base64 HMAC-SHA256 over timestamp + body), HubSpot v3 (base64
HMAC-SHA256 over method + URI + body + timestamp in ms), Intercom (``sha1=`` hex HMAC-SHA1 of
the body), GitHub-style generic (``sha256=`` hex HMAC-SHA256 of the body), and Segment's Basic
auth with the write key as user name.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any


def _hmac(secret: str, message: bytes, digest: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), message, digest).digest()


def stripe_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    t = int(time.time()) if timestamp is None else timestamp
    signature = _hmac(secret, f"{t}.".encode() + body).hex()
    return {"Stripe-Signature": f"t={t},v1={signature}", "Content-Type": "application/json"}


def zendesk_headers(secret: str, body: bytes, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = base64.b64encode(_hmac(secret, stamp.encode() + body)).decode()
    return {
        "X-Zendesk-Webhook-Signature": signature,
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def hubspot_headers(
    secret: str, method: str, uri: str, body: bytes, timestamp_ms: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    message = method.upper().encode() + uri.encode() + body + stamp.encode()
    return {
        "X-HubSpot-Signature-v3": base64.b64encode(_hmac(secret, message)).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
        "Content-Type": "application/json",
    }


def intercom_headers(secret: str, body: bytes) -> dict[str, str]:
    signature = _hmac(secret, body, "sha1").hex()
    return {"X-Hub-Signature": f"sha1={signature}", "Content-Type": "application/json"}


def generic_headers(secret: str, body: bytes) -> dict[str, str]:
    signature = _hmac(secret, body).hex()
    return {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}


def segment_headers(write_key: str) -> dict[str, str]:
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def body_of(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_request(
    path: str, payload: Any, secrets: dict[str, str], host: str = "127.0.0.1"
) -> tuple[dict[str, str], bytes]:
    """Headers and body for `payload` sent to `path`, signed as that route's sender signs.

    `secrets` maps ``segment``, ``stripe``, ``zendesk``, ``hubspot``, ``intercom`` and
    ``generic`` to the write key or signing secret to use.
    """
    body = body_of(payload)
    if path.startswith("/v1/"):
        return segment_headers(secrets["segment"]), body
    vendor = path.removeprefix("/webhooks/").split("/", 1)[0]
    if vendor == "stripe":
        return stripe_headers(secrets["stripe"], body), body
    if vendor == "zendesk":
        return zendesk_headers(secrets["zendesk"], body), body
    if vendor == "hubspot":
        return hubspot_headers(secrets["hubspot"], "POST", f"https://{host}{path}", body), body
    if vendor == "intercom":
        return intercom_headers(secrets["intercom"], body), body
    if vendor == "generic":
        return generic_headers(secrets["generic"], body), body
    raise ValueError(f"no sender for {path!r}; expected /v1/<call> or /webhooks/<vendor>")
