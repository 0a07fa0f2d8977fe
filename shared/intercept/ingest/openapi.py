"""The OpenAPI 3.1 document of the ingest API, generated from the route models.

Segment calls are described by the same pydantic models that validate them; webhook bodies by
light models of the vendors' envelopes (their verification and meaning are in
docs/ingest.md). Imported only when ``GET /openapi.json`` is asked for.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from intercept import __version__
from intercept.ingest import models
from intercept.ingest.segment import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from intercept.ingest.service import MAX_WEBHOOK_BYTES

_REF = "#/components/schemas/{model}"


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")


class StripeEvent(_Envelope):
    """A Stripe event; signed with ``Stripe-Signature: t=<unix>,v1=<hex>``."""

    id: str = Field(description="evt_...; unique, used as the event id")
    type: str = Field(description="e.g. customer.subscription.updated, invoice.payment_failed")
    created: int = Field(description="epoch seconds")
    data: dict[str, Any] = Field(description="object, and previous_attributes on updates")


class ZendeskEvent(_Envelope):
    """A Zendesk event-type webhook body (or a trigger body, see docs/ingest.md)."""

    id: str | None = None
    type: str | None = Field(default=None, description="e.g. zen:event-type:ticket.created")
    time: str | None = Field(default=None, description="ISO-8601")
    detail: dict[str, Any] = Field(default_factory=dict)
    event: dict[str, Any] = Field(default_factory=dict)


class HubSpotEvent(_Envelope):
    """One item of a HubSpot webhook array."""

    eventId: int | None = None
    eventType: str | None = Field(default=None, description="e.g. company.propertyChange")
    objectId: int | None = None
    propertyName: str | None = None
    propertyValue: str | None = None
    occurredAt: int | None = Field(default=None, description="epoch milliseconds")
    attemptNumber: int | None = None


class IntercomNotification(_Envelope):
    """An Intercom notification; signed with ``X-Hub-Signature: sha1=<hex>``."""

    id: str = Field(description="notif_...; unique, used as the event id")
    topic: str = Field(description="e.g. conversation.user.created, conversation.rating.added")
    created_at: int | None = None
    data: dict[str, Any] = Field(description="data.item is the conversation, contact or company")


class GenericEvent(_Envelope):
    """Any JSON object (or an array of them) signed with ``X-Hub-Signature-256``."""

    id: str | None = None
    type: str | None = None
    occurred_at: str | None = None
    person: dict[str, str] = Field(default_factory=dict, description="identifier kind -> value")
    account: dict[str, str] = Field(default_factory=dict, description="identifier kind -> value")
    properties: dict[str, Any] = Field(default_factory=dict)


_MODELS: list[type[BaseModel]] = [
    models.IdentifyCall,
    models.TrackCall,
    models.PageCall,
    models.ScreenCall,
    models.GroupCall,
    models.AliasCall,
    models.BatchCall,
    models.IngestResponse,
    models.ErrorResponse,
    StripeEvent,
    ZendeskEvent,
    HubSpotEvent,
    IntercomNotification,
    GenericEvent,
]

_ERRORS = {
    "400": "malformed request: the body names the field and what is accepted",
    "401": "missing or wrong write key or signature, or a signature outside its time window",
    "413": "body over the size limit named in the body",
    "415": "content type or encoding not accepted",
    "503": "storage unavailable: nothing was accepted, retry",
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _operation(
    summary: str,
    description: str,
    body: dict[str, Any],
    *,
    headers: tuple[tuple[str, str], ...] = (),
    security: list[dict[str, list[str]]] | None = None,
) -> dict[str, Any]:
    json_body = {"application/json": {"schema": _ref(models.ErrorResponse)}}
    operation: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "parameters": [
            {
                "name": name,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in headers
        ],
        "responses": {
            "200": {
                "description": "accepted: archived and enqueued",
                "content": {"application/json": {"schema": _ref(models.IngestResponse)}},
            },
            **{code: {"description": text, "content": json_body} for code, text in _ERRORS.items()},
        },
    }
    if security is not None:
        operation["security"] = security
    return operation


def _segment_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    write_key: list[dict[str, list[str]]] = [{"writeKey": []}, {}]
    for call in models.SEGMENT_CALLS:
        paths[f"/v1/{call}"] = {
            "post": _operation(
                f"Segment {call} call",
                f"One {call} call, at most {MAX_EVENT_BYTES} bytes. Authenticate with the write "
                "key as Basic auth user name (empty password) or as writeKey in the body.",
                _ref(models.CALL_MODELS[call]),
                security=write_key,
            )
        }
    paths["/v1/batch"] = {
        "post": _operation(
            "Segment batch",
            f"Up to {MAX_BATCH_EVENTS} calls and {MAX_BATCH_BYTES} bytes; gzip accepted. Each "
            "item is accepted or refused on its own (see `rejected` in the answer).",
            _ref(models.BatchCall),
            security=write_key,
        )
    }
    return paths


def _webhook_paths() -> dict[str, Any]:
    limit = f"Body at most {MAX_WEBHOOK_BYTES} bytes, verified over the raw bytes."
    hubspot_array = {"type": "array", "items": _ref(HubSpotEvent)}
    generic = {"oneOf": [_ref(GenericEvent), {"type": "array", "items": _ref(GenericEvent)}]}
    specs: dict[str, tuple[str, dict[str, Any], tuple[tuple[str, str], ...]]] = {
        "/webhooks/stripe": (
            "Stripe webhook",
            _ref(StripeEvent),
            (("Stripe-Signature", "t=<unix>,v1=<hex HMAC-SHA256 of '{t}.{body}'>; 300 s window"),),
        ),
        "/webhooks/zendesk": (
            "Zendesk webhook",
            _ref(ZendeskEvent),
            (
                ("X-Zendesk-Webhook-Signature", "base64 HMAC-SHA256 of timestamp + body"),
                ("X-Zendesk-Webhook-Signature-Timestamp", "ISO-8601; 300 s window"),
            ),
        ),
        "/webhooks/hubspot": (
            "HubSpot webhook (signature v3)",
            hubspot_array,
            (
                ("X-HubSpot-Signature-v3", "base64 HMAC-SHA256 of method + URI + body + timestamp"),
                ("X-HubSpot-Request-Timestamp", "epoch milliseconds; 300 s window"),
            ),
        ),
        "/webhooks/intercom": (
            "Intercom webhook",
            _ref(IntercomNotification),
            (("X-Hub-Signature", "sha1=<hex HMAC-SHA1 of the body>"),),
        ),
        "/webhooks/generic/{source}": (
            "Generic signed webhook",
            generic,
            (("X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the body>"),),
        ),
    }
    paths: dict[str, Any] = {}
    for path, (summary, schema, headers) in specs.items():
        operation = _operation(summary, limit, schema, headers=headers, security=[])
        if "{source}" in path:
            operation["parameters"].append(
                {
                    "name": "source",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_]{0,47}$"},
                }
            )
        paths[path] = {"post": operation}
    return paths


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document served at ``GET /openapi.json``."""
    _, top = models_json_schema([(model, "validation") for model in _MODELS], ref_template=_REF)
    paths = {**_segment_paths(), **_webhook_paths()}
    paths["/openapi.json"] = {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1 document"}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Intercept ingest API",
            "version": __version__,
            "description": "Segment-compatible tracking calls and signed vendor webhooks.",
        },
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "writeKey": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "write key as user name, empty password",
                }
            },
        },
    }
