"""Webhook signature schemes, each exactly as its vendor signs.

Every verifier works on the raw body bytes, compares in constant time, accepts any of several
active secrets (rotation) and, where the scheme signs a timestamp, refuses requests signed
too long ago or too far in the future. A refusal raises `SignatureError`, whose reason is for
the log only: callers answer 401 with a generic body.

The ``sign_*`` functions produce what the vendor would send; tests, samples and benchmarks
use them to act as senders.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from typing import Any

from intercept.ingest.timeparse import TimestampError, parse_iso

STRIPE_TOLERANCE_SECONDS = 300
ZENDESK_TOLERANCE_SECONDS = 300
HUBSPOT_TOLERANCE_SECONDS = 300

_Digest = Callable[..., Any]


class SignatureError(Exception):
    """Why a request failed verification. Never contains a secret or a signature."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _keys(secrets: Sequence[str]) -> list[bytes]:
    keys = [secret.encode("utf-8") for secret in secrets if secret]
    if not keys:
        raise SignatureError("no signing secret is configured for this source")
    return keys


def _mac(key: bytes, message: bytes, digest: _Digest) -> bytes:
    return hmac.new(key, message, digest).digest()


def _matches(expected: bytes, offered: Sequence[bytes]) -> bool:
    # Every candidate is compared (no early exit on the first candidate's prefix).
    found = False
    for candidate in offered:
        found |= hmac.compare_digest(expected, candidate)
    return found


def _ascii(value: str) -> bytes:
    return value.strip().encode("utf-8", "replace")


def _check_window(signed_at: float, now: float, tolerance: float) -> None:
    age = now - signed_at
    if age > tolerance:
        raise SignatureError(f"signature timestamp is {int(age)} s old (limit {tolerance:g} s)")
    if age < -tolerance:
        raise SignatureError(
            f"signature timestamp is {int(-age)} s in the future (limit {tolerance:g} s)"
        )


# ---------------------------------------------------------------------------- Stripe


def parse_stripe_header(header: str) -> tuple[str, list[str]]:
    """Split ``t=<unix>,v1=<hex>[,v1=...][,v0=...]`` into the timestamp and the v1 values."""
    timestamp = ""
    signatures: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = value.strip()
        elif key == "v1":
            signatures.append(value.strip())
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("Stripe-Signature has no usable t= timestamp")
    if not signatures:
        raise SignatureError("Stripe-Signature has no v1 signature")
    return timestamp, signatures


def verify_stripe(
    body: bytes,
    header: str,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: float = STRIPE_TOLERANCE_SECONDS,
) -> None:
    """HMAC-SHA256 over ``"{t}.{body}"`` keyed by the endpoint secret, hex, any v1 matches."""
    if not header:
        raise SignatureError("Stripe-Signature header is missing")
    keys = _keys(secrets)
    timestamp, signatures = parse_stripe_header(header)
    _check_window(int(timestamp), now, tolerance)
    message = timestamp.encode() + b"." + body
    offered = [_ascii(value) for value in signatures]
    if not any(
        _matches(_mac(key, message, hashlib.sha256).hex().encode(), offered) for key in keys
    ):
        raise SignatureError("no Stripe v1 signature matches an active secret")


def sign_stripe(body: bytes, secret: str, timestamp: int) -> str:
    """The Stripe-Signature header Stripe would send for `body` at `timestamp`."""
    digest = _mac(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hex()}"


# ---------------------------------------------------------------------------- Zendesk


def verify_zendesk(
    body: bytes,
    signature: str,
    timestamp: str,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: float = ZENDESK_TOLERANCE_SECONDS,
) -> None:
    """base64(HMAC-SHA256(secret, timestamp + body)); the timestamp is ISO-8601."""
    if not signature or not timestamp:
        raise SignatureError("Zendesk signature or signature timestamp header is missing")
    keys = _keys(secrets)
    try:
        signed_at, repaired = parse_iso(timestamp)
    except TimestampError:
        raise SignatureError("Zendesk signature timestamp is not ISO-8601") from None
    if repaired:
        raise SignatureError("Zendesk signature timestamp is not strict ISO-8601")
    _check_window(signed_at.timestamp(), now, tolerance)
    message = timestamp.encode("utf-8") + body
    offered = [_ascii(signature)]
    if not any(_matches(base64.b64encode(_mac(k, message, hashlib.sha256)), offered) for k in keys):
        raise SignatureError("Zendesk signature does not match an active secret")


def sign_zendesk(body: bytes, secret: str, timestamp: str) -> str:
    """The X-Zendesk-Webhook-Signature value for `body` signed at ISO `timestamp`."""
    return base64.b64encode(
        _mac(secret.encode(), timestamp.encode() + body, hashlib.sha256)
    ).decode()


# ---------------------------------------------------------------------------- HubSpot

# HubSpot signs the URI with these escapes decoded (the query's own '?' is never encoded).
_HUBSPOT_DECODES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_HUBSPOT_ESCAPE = re.compile("|".join(_HUBSPOT_DECODES), re.IGNORECASE)


def hubspot_signed_uri(uri: str) -> str:
    """The URI as HubSpot puts it in the v3 source string."""
    return _HUBSPOT_ESCAPE.sub(lambda match: _HUBSPOT_DECODES[match.group(0).upper()], uri)


def verify_hubspot_v3(
    body: bytes,
    signature: str,
    timestamp: str,
    method: str,
    uris: Sequence[str],
    secrets: Sequence[str],
    *,
    now: float,
    tolerance: float = HUBSPOT_TOLERANCE_SECONDS,
) -> None:
    """base64(HMAC-SHA256(app secret, method + uri + body + timestamp)), timestamp in ms.

    `uris` are the candidate URIs the sender may have called (see
    `intercept.ingest.service.public_uris`); any one of them may match.
    """
    if not signature or not timestamp:
        raise SignatureError("X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp is missing")
    keys = _keys(secrets)
    if not timestamp.isdigit() or len(timestamp) > 15:
        raise SignatureError("X-HubSpot-Request-Timestamp is not epoch milliseconds")
    _check_window(int(timestamp) / 1000, now, tolerance)
    offered = [_ascii(signature)]
    for uri in dict.fromkeys(hubspot_signed_uri(uri) for uri in uris):
        message = method.upper().encode() + uri.encode("utf-8") + body + timestamp.encode()
        for key in keys:
            if _matches(base64.b64encode(_mac(key, message, hashlib.sha256)), offered):
                return
    raise SignatureError("HubSpot v3 signature does not match an active secret and URI")


def sign_hubspot_v3(body: bytes, secret: str, *, method: str, uri: str, timestamp_ms: int) -> str:
    """The X-HubSpot-Signature-v3 value HubSpot would send."""
    message = method.encode() + hubspot_signed_uri(uri).encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(_mac(secret.encode(), message, hashlib.sha256)).decode()


# ---------------------------------------------------------------------------- X-Hub-Signature

_HUB_DIGESTS: dict[str, _Digest] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}


def verify_hub_signature(
    body: bytes, header: str, secrets: Sequence[str], *, algorithm: str
) -> None:
    """``<algorithm>=<hex HMAC of the raw body>`` (Intercom: sha1; GitHub-style: sha256).

    These schemes sign no timestamp, so no replay window applies; downstream dedupe by the
    sender's delivery or notification id is what makes a replayed request harmless.
    """
    # Limitation: these schemes sign no timestamp, so a captured request can be sent again
    # and is accepted again; it changes nothing downstream because its event id repeats.
    if not header:
        raise SignatureError(f"{algorithm} hub signature header is missing")
    keys = _keys(secrets)
    prefix, sep, value = header.strip().partition("=")
    if not sep or prefix.lower() != algorithm:
        raise SignatureError(f"hub signature header does not start with {algorithm}=")
    digest = _HUB_DIGESTS[algorithm]
    offered = [_ascii(value.lower())]
    if not any(_matches(_mac(key, body, digest).hex().encode(), offered) for key in keys):
        raise SignatureError(f"{algorithm} hub signature does not match an active secret")


def sign_hub(body: bytes, secret: str, *, algorithm: str) -> str:
    """The X-Hub-Signature(-256) header value for `body`."""
    return f"{algorithm}={_mac(secret.encode(), body, _HUB_DIGESTS[algorithm]).hex()}"
