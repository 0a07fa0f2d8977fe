"""Signed outbound webhooks: a JSON body and an ``X-Intercept-Signature`` header.

The header reads ``t=<unix seconds>,v1=<hex>`` where the hex is HMAC-SHA256, keyed with the
shared secret, of the string ``"{t}.{body}"`` (the raw body bytes as sent). A receiver checks
it with `verify_signature`: recompute the HMAC over the raw body, compare in constant time,
and refuse timestamps outside a tolerance (five minutes by default) to stop replays. The
``X-Intercept-Delivery`` header repeats the action id so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

from intercept.dispatch.errors import ChannelNotConfigured
from intercept.dispatch.http import Post, check_url, post, raise_for_answer
from intercept.records import Action

SIGNATURE_HEADER = "X-Intercept-Signature"
DELIVERY_HEADER = "X-Intercept-Delivery"
EVENT_TYPE = "intercept.action"
DEFAULT_TOLERANCE_SECONDS = 300


def render_webhook(action: Action) -> bytes:
    """The webhook body: ``{"type", "id", "created_at", "data"}`` as compact JSON bytes."""
    document: dict[str, Any] = {
        "type": EVENT_TYPE,
        "id": action.action_id,
        "created_at": action.decided_at.isoformat(),
        "data": action.model_dump(mode="json"),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``X-Intercept-Signature`` value for `body` at `timestamp` (now when None)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_mac(secret, moment, body)}"


def _parse(header: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    body: bytes | str,
    header: str,
    secrets: str | Sequence[str],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` signs `body` with one of `secrets` within the time tolerance.

    Parameters
    ----------
    body : the raw request body exactly as received (bytes, or text encoded as UTF-8).
    header : the ``X-Intercept-Signature`` value.
    secrets : the shared secret, or several during a rotation.
    tolerance_seconds : how far the signed time may be from `now`, either way.
    now : unix seconds to check against; the current time when None.
    """
    raw = body.encode("utf-8") if isinstance(body, str) else body
    timestamp, signatures = _parse(header or "")
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    expected = [_mac(key, timestamp, raw) for key in keys if key]
    return any(
        hmac.compare_digest(candidate, signature)
        for candidate in expected
        for signature in signatures
    )


def send_webhook(
    action: Action,
    url: str,
    secret: str,
    http_post: Post = post,
    timestamp: int | None = None,
) -> bytes:
    """Sign and POST the action; returns the body sent.

    Raises
    ------
    ChannelNotConfigured without a URL or secret; RetryableDelivery on 408, 425, 429, 5xx or
    a network failure; DeliveryRejected on other non-2xx answers (redirects included).
    """
    check_url(url, "outbound webhook URL")
    if not secret:
        raise ChannelNotConfigured(
            "no outbound webhook secret is configured; unsigned posts are refused"
        )
    body = render_webhook(action)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Intercept-Webhook/1",
        SIGNATURE_HEADER: sign(body, secret, timestamp),
        DELIVERY_HEADER: action.action_id,
    }
    raise_for_answer(http_post(url, body, headers, 5.0), "webhook receiver")
    return body
