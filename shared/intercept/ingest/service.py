"""The ingest API: route, verify, validate, normalise, archive, enqueue, answer.

`handle` takes an API Gateway HTTP API (payload 2.0) event and returns the response. A
request is answered 2xx only after its raw body is in the archive bucket and its events are
in the IngestQueue; bad input gets 400 / 401 / 404 / 405 / 413 / 415 and never a 5xx; an AWS
failure gets 503 so the sender retries. Errors become responses in one place
(`intercept.errors.http_error_response`).
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from intercept.errors import (
    BadRequest,
    InterceptError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    http_error_response,
)
from intercept.events import utcnow
from intercept.ingest import segment
from intercept.ingest.normalise import Context, Outcome, normalise
from intercept.ingest.request import HttpRequest, json_response, parse_event
from intercept.ingest.signatures import (
    SignatureError,
    verify_hub_signature,
    verify_hubspot_v3,
    verify_stripe,
    verify_zendesk,
)
from intercept.ingest.sinks import Archive, EventQueue, archive_key
from intercept.ingest.timeparse import isoformat
from intercept.observability import MetricUnit, logger, metrics
from intercept.secrets import Secrets, load_secrets
from intercept.settings import get_settings

MAX_WEBHOOK_BYTES = 1024 * 1024
_MAX_HEADERS_JSON = 1500
VENDORS = ("stripe", "zendesk", "hubspot", "intercom")
RESERVED_SOURCES = frozenset({*VENDORS, "segment", "generic"})
JSON_MEDIA = ("application/json", "text/plain", "")
FORM_MEDIA = "application/x-www-form-urlencoded"
# Request headers kept with the archived body because normalisers read them on replay.
REPLAY_HEADERS = (
    "content-type",
    "user-agent",
    "x-github-event",
    "x-github-delivery",
    "x-delivery-id",
    "x-event-id",
    "x-event-type",
)
_GENERIC = re.compile(r"(?:^|/)webhooks/generic/(?P<name>[^/]*)$")
_VENDOR = re.compile(r"(?:^|/)webhooks/(?P<vendor>stripe|zendesk|hubspot|intercom)$")
_SEGMENT = re.compile(r"(?:^|/)v1/(?P<call>[^/]*)$")
_MEDIA_TYPE = re.compile(r"^application/[a-z0-9][a-z0-9!#$&^_.+-]{0,100}$")
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,47}$")
_UNAUTHORIZED_SEGMENT = (
    "write key missing or not accepted; send it as the Basic auth user name (empty password) "
    "or as writeKey in the body"
)
_UNAUTHORIZED_WEBHOOK = "signature missing, invalid or outside the accepted time window"


@dataclass
class Dependencies:
    """What `handle` needs from the outside world; tests pass in-memory fakes."""

    archive: Archive
    queue: EventQueue
    secrets: Callable[[], Secrets] = load_secrets
    clock: Callable[[], datetime] = utcnow
    public_urls: Sequence[str] = field(default_factory=tuple)


def aws_dependencies() -> Dependencies:
    """The archive bucket and IngestQueue named by the settings (clients made on first use)."""
    from intercept.ingest.aws import LazyS3Archive, LazySqsEventQueue

    settings = get_settings()
    return Dependencies(
        archive=LazyS3Archive(),
        queue=LazySqsEventQueue(),
        public_urls=[url.strip() for url in settings.ingest_public_url.split(",") if url.strip()],
    )


@dataclass(frozen=True)
class Route:
    name: str  # segment, stripe, zendesk, hubspot, intercom, generic, openapi
    param: str = ""


# ---------------------------------------------------------------------------- entry point


def handle(event: Any, deps: Dependencies | None = None) -> dict[str, Any]:
    """Answer one API Gateway HTTP API (payload 2.0) event."""
    route: Route | None = None
    try:
        request = parse_event(event)
        route = match_route(request)
        if route.name == "openapi":
            return _openapi()
        deps = deps or aws_dependencies()
        if route.name == "segment":
            return _segment(request, deps, route.param)
        return _webhook(request, deps, route)
    except InterceptError as error:
        return _refused(error, route)
    except Exception:
        logger.exception("failed to ingest request")
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
        return http_error_response(
            InterceptError("internal error; nothing was accepted, retry later")
        )


def match_route(request: HttpRequest) -> Route:
    """The route for a request (suffix match, so custom-domain base paths work)."""
    path = request.path.rstrip("/") or "/"
    if path.endswith("/openapi.json"):
        _require_method(request, "GET")
        return Route("openapi")
    for pattern, name in ((_GENERIC, "generic"), (_VENDOR, "vendor"), (_SEGMENT, "segment")):
        match = pattern.search(path)
        if match:
            _require_method(request, "POST")
            value = match.group(1)
            return Route(value, "") if name == "vendor" else Route(name, value)
    raise NotFound(
        "no such route; accepted: POST /v1/{call}, POST /webhooks/{stripe|zendesk|hubspot|"
        "intercom}, POST /webhooks/generic/{source}, GET /openapi.json"
    )


def _require_method(request: HttpRequest, method: str) -> None:
    if request.method != method:
        raise MethodNotAllowed(
            f"method {request.method[:16]} is not accepted here; use {method}", accepted=[method]
        )


# ---------------------------------------------------------------------------- answers


def _refused(error: InterceptError, route: Route | None) -> dict[str, Any]:
    route_name = route.name if route else ""
    extra = {"status": error.status, "error": error.code, "route": route_name}
    if error.context.get("reason"):
        extra["reason"] = error.context["reason"]
    if error.status >= 500:
        logger.error("failed to ingest request", extra=extra)
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
    else:
        logger.warning("rejected request", extra=extra)
        metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
    response = http_error_response(error)
    if route_name == "segment":
        # Segment's libraries read `code` and `message` from error answers.
        body = json.loads(response["body"])
        body.update(code=error.code, message=error.detail)
        response["body"] = json.dumps(body)
        if isinstance(error, Unauthorized):
            response["headers"]["www-authenticate"] = 'Basic realm="intercept"'
    return response


_OPENAPI_BODY: str | None = None


def _openapi() -> dict[str, Any]:
    global _OPENAPI_BODY
    if _OPENAPI_BODY is None:
        from intercept.ingest.openapi import openapi_document

        _OPENAPI_BODY = json.dumps(openapi_document())
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": _OPENAPI_BODY,
    }


def _accepted(
    outcome: Outcome, route: Route, source: str, key: str, *, rejected_items: int = 0
) -> dict[str, Any]:
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=len(outcome.events))
    if rejected_items:
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=rejected_items)
    if outcome.unknown:
        metrics.add_metric(name="UnknownEventTypes", unit=MetricUnit.Count, value=outcome.unknown)
    logger.info(
        "accepted request",
        extra={
            "route": route.name,
            "source": source,
            "events": len(outcome.events),
            "rejected": rejected_items,
            "unknown": outcome.unknown,
            "archive_key": key,
        },
    )
    body: dict[str, Any] = {"success": True, "accepted": len(outcome.events)}
    if outcome.rejected:
        body["rejected"] = [issue.model_dump(exclude_none=True) for issue in outcome.rejected]
    if outcome.warnings:
        body["warnings"] = [issue.model_dump(exclude_none=True) for issue in outcome.warnings]
    return json_response(200, body)


# ---------------------------------------------------------------------------- body handling


def _require_media(request: HttpRequest, accepted: Sequence[str]) -> None:
    media = request.media_type
    if media in accepted or (_MEDIA_TYPE.match(media) and media.endswith("+json")):
        return
    shown = [kind for kind in accepted if kind]
    raise UnsupportedMediaType(
        f"content-type {media[:64]!r} is not accepted; send {' or '.join(shown)}",
        accepted=shown,
    )


def _too_large(size: int, limit: int, what: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body is {size} bytes; the limit is {limit // 1024} KB ({limit} bytes) {what}",
        limit_bytes=limit,
    )


def _decoded(request: HttpRequest, limit: int, what: str, *, gzip: bool) -> bytes:
    encoding = request.header("content-encoding").strip().lower()
    body = request.body
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise _too_large(len(body), limit, what)
        return body
    if encoding != "gzip" or not gzip:
        accepted = ["gzip", "identity"] if gzip else ["identity"]
        raise UnsupportedMediaType(
            f"content-encoding {encoding[:32]!r} is not accepted; send {' or '.join(accepted)}",
            accepted=accepted,
        )
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error:
        raise BadRequest("the body is marked gzip but is not valid gzip data") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise _too_large(len(data), limit, what)
    if not inflater.eof:
        raise BadRequest("the gzip body is truncated; send the complete gzip stream")
    return data


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(body: bytes) -> Any:
    """The body as JSON (UTF-8), or `BadRequest` saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8 text; send UTF-8 encoded JSON") from None
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError):
        raise BadRequest(
            "the body is not JSON this API accepts (numbers must be finite and of at most "
            "4300 digits; nesting must stay shallow)"
        ) from None


def _replay_headers(request: HttpRequest) -> dict[str, str]:
    """The few headers normalisers read, kept small enough for S3 metadata (2 KB in all)."""
    kept: dict[str, str] = {}
    size = 0
    for name in REPLAY_HEADERS:
        value = request.header(name)[:200]
        encoded = len(json.dumps({name: value}))
        if value and size + encoded <= _MAX_HEADERS_JSON:
            kept[name] = value
            size += encoded
    return kept


def archive_metadata(
    route: str, source: str, received_at: datetime, headers: Mapping[str, str], **extra: str
) -> dict[str, str]:
    """S3 user metadata of an archived body (ASCII only; no credentials, no signatures)."""
    return {
        "route": route,
        "source": source,
        "received-at": isoformat(received_at),
        "headers": json.dumps(dict(headers), ensure_ascii=True, separators=(",", ":")),
        **extra,
    }


# ---------------------------------------------------------------------------- Segment


def _segment(request: HttpRequest, deps: Dependencies, call: str) -> dict[str, Any]:
    if call not in segment.CALLS:
        raise NotFound(
            f"unknown Segment call {call[:32]!r}; accepted: {', '.join(segment.CALLS)}",
            accepted=list(segment.CALLS),
        )
    _require_media(request, JSON_MEDIA)
    if call == "batch":
        body = _decoded(request, segment.MAX_BATCH_BYTES, "per batch request", gzip=True)
    else:
        body = _decoded(request, segment.MAX_EVENT_BYTES, "per event", gzip=True)
    write_keys = deps.secrets().write_keys
    authorization = request.header("authorization")
    if authorization.lower().startswith("basic "):
        _authenticate(authorization, None, write_keys)
    payload = parse_json(body)
    source, key = _authenticate(authorization, payload, write_keys)

    received_at = deps.clock()
    key_name = archive_key(source, received_at)
    outcome = normalise("segment", payload, Context(source, received_at, key_name, call=call))
    if not outcome.events:
        raise BadRequest(_rejection_summary(outcome))

    stored = body
    if isinstance(payload, dict) and "writeKey" in payload:
        stored = json.dumps({k: v for k, v in payload.items() if k != "writeKey"}).encode()
    metadata = archive_metadata(
        "segment",
        source,
        received_at,
        _replay_headers(request),
        call=call,
        **{"write-key-id": segment.write_key_id(key)},
    )
    deps.archive.put(key_name, stored, content_type="application/json", metadata=metadata)
    deps.queue.send(outcome.events, source=source)
    route = Route("segment", call)
    return _accepted(outcome, route, source, key_name, rejected_items=len(outcome.rejected))


def _authenticate(
    authorization: str, payload: Any, write_keys: Mapping[str, str]
) -> tuple[str, str]:
    key = segment.offered_write_key(authorization, payload)
    source = segment.source_for_write_key(key, write_keys)
    if source is None:
        reason = "no write key offered" if not key else "write key not recognised"
        raise Unauthorized(_UNAUTHORIZED_SEGMENT, reason=reason)
    return source, key


def _rejection_summary(outcome: Outcome) -> str:
    shown = [
        (f"batch[{issue.index}]." if issue.index is not None else "") + f"{issue.field}: "
        f"{issue.reason}"
        for issue in outcome.rejected[:5]
    ]
    more = len(outcome.rejected) - len(shown)
    suffix = f" (and {more} more)" if more > 0 else ""
    if len(outcome.rejected) == 1 and outcome.rejected[0].index is None:
        return shown[0]
    return "no call in the batch was accepted: " + "; ".join(shown) + suffix


# ---------------------------------------------------------------------------- webhooks


def public_uris(request: HttpRequest, bases: Sequence[str]) -> list[str]:
    """URIs the sender may have called: from the Host header (scheme from X-Forwarded-Proto,
    else https or http), the API's domain, and any configured public base URLs
    (``INGEST_PUBLIC_URL``) joined with the route path."""
    query = f"?{request.query}" if request.query else ""
    forwarded = request.header("x-forwarded-proto").split(",")[0].strip().lower()
    schemes = [forwarded] if forwarded else ["https", "http"]
    uris: list[str] = []
    host = request.header("host")
    if host:
        uris.extend(f"{scheme}://{host}{request.raw_path}{query}" for scheme in schemes)
    if request.domain and request.domain != host:
        uris.append(f"https://{request.domain}{request.raw_path}{query}")
    uris.extend(f"{base.rstrip('/')}{request.path}{query}" for base in bases)
    return uris


def _verify(route: Route, request: HttpRequest, secrets: Sequence[str], deps: Dependencies) -> None:
    now = deps.clock().timestamp()
    body = request.body
    if route.name == "stripe":
        verify_stripe(body, request.header("stripe-signature"), secrets, now=now)
    elif route.name == "zendesk":
        verify_zendesk(
            body,
            request.header("x-zendesk-webhook-signature"),
            request.header("x-zendesk-webhook-signature-timestamp"),
            secrets,
            now=now,
        )
    elif route.name == "hubspot":
        verify_hubspot_v3(
            body,
            request.header("x-hubspot-signature-v3"),
            request.header("x-hubspot-request-timestamp"),
            request.method,
            public_uris(request, deps.public_urls),
            secrets,
            now=now,
        )
    elif route.name == "intercom":
        verify_hub_signature(body, request.header("x-hub-signature"), secrets, algorithm="sha1")
    else:
        verify_hub_signature(
            body, request.header("x-hub-signature-256"), secrets, algorithm="sha256"
        )


def _webhook_source(route: Route) -> tuple[str, str]:
    """(canonical source, secrets key) of a webhook route."""
    if route.name != "generic":
        return route.name, route.name
    name = route.param.lower()
    if not _SOURCE_NAME.match(name) or name in RESERVED_SOURCES:
        raise BadRequest(
            "the generic source name must be 1-48 of a-z, 0-9 and _, start with a letter or "
            f"digit, and not be one of {', '.join(sorted(RESERVED_SOURCES))}"
        )
    return name, f"generic_{name}"


def payload_for(route: str, body: bytes, media_type: str) -> Any:
    """The parsed body of a webhook route (generic senders may post ``payload=<JSON>``)."""
    if route == "generic" and media_type == FORM_MEDIA:
        try:
            fields = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the form body is not valid; send payload=<JSON>") from None
        if "payload" not in fields:
            raise BadRequest("the form body has no payload field; send payload=<JSON>")
        return parse_json(fields["payload"][0].encode("utf-8"))
    return parse_json(body)


def _webhook(request: HttpRequest, deps: Dependencies, route: Route) -> dict[str, Any]:
    source, secret_name = _webhook_source(route)
    _require_media(request, (*JSON_MEDIA, FORM_MEDIA) if route.name == "generic" else JSON_MEDIA)
    _decoded(request, MAX_WEBHOOK_BYTES, "per webhook", gzip=False)
    try:
        _verify(route, request, deps.secrets().webhook_secrets_for(secret_name), deps)
    except SignatureError as exc:
        raise Unauthorized(_UNAUTHORIZED_WEBHOOK, reason=exc.reason) from None
    payload = payload_for(route.name, request.body, request.media_type)

    received_at = deps.clock()
    key_name = archive_key(source, received_at)
    headers = _replay_headers(request)
    context = Context(source, received_at, key_name, headers=headers)
    outcome = normalise(route.name, payload, context)
    if outcome.events:
        metadata = archive_metadata(route.name, source, received_at, headers)
        deps.archive.put(
            key_name,
            request.body,
            content_type=request.media_type or "application/json",
            metadata=metadata,
        )
        deps.queue.send(outcome.events, source=source)
    return _accepted(outcome, route, source, key_name if outcome.events else "")
