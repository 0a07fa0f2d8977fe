"""Generic signed webhooks (``X-Hub-Signature-256``, as GitHub signs).

Any sender that signs this way can post a JSON object or an array of objects. Ingest does not
know what they mean, so each becomes an ``unknown`` event: archived, counted and enqueued
with whatever identities it names. Conventions read when present: ``id`` / ``event_id``
(else the ``X-GitHub-Delivery`` header for a single object, else a content hash), ``type`` /
``event`` (else ``X-GitHub-Event``), ``occurred_at`` / ``timestamp`` / ``created_at``,
``person`` and ``account`` objects keyed by identifier kind, and ``properties``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from intercept.errors import BadRequest
from intercept.events import ACCOUNT_ID_KINDS, PERSON_ID_KINDS, CanonicalEvent
from intercept.ingest.normalise import (
    Context,
    Outcome,
    content_id,
    guarded,
    scoped_id,
    unknown_event,
)
from intercept.ingest.timeparse import TimestampError, parse_any
from intercept.ingest.tracking import email, text

DELIVERY_HEADERS = ("x-github-delivery", "x-delivery-id", "x-event-id")
NAME_HEADERS = ("x-github-event", "x-event-type")
_MAX_SCALARS = 50


def normalise(payload: Any, ctx: Context) -> Outcome:
    """A generic webhook body -> one unknown event per object."""
    if isinstance(payload, Mapping):
        items: list[Any] = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        raise BadRequest("a generic webhook body must be a JSON object or an array of objects")
    delivery = next((ctx.headers[h] for h in DELIVERY_HEADERS if ctx.headers.get(h)), None)
    header_name = next((ctx.headers[h] for h in NAME_HEADERS if ctx.headers.get(h)), None)
    single = len(items) == 1
    return Outcome(
        events=[_item(item, ctx, delivery if single else None, header_name) for item in items]
    )


def _when(item: Mapping[str, Any]) -> datetime | None:
    for key in ("occurred_at", "timestamp", "created_at"):
        if item.get(key) not in (None, ""):
            try:
                return parse_any(item[key])
            except TimestampError:
                return None
    return None


def _ids(value: Any, kinds: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    found: dict[str, str] = {}
    for kind in kinds:
        shown = text(value.get(kind), 1024)
        if kind == "email":
            shown = email(shown)
        if shown:
            found[kind] = shown
    return found


def _scalars(item: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 256):
            kept[str(key)] = value
            if len(kept) >= _MAX_SCALARS:
                break
    return kept


def _item(item: Any, ctx: Context, delivery: str | None, header_name: str | None) -> CanonicalEvent:
    if not isinstance(item, Mapping):
        return unknown_event(ctx, event_id=content_id(ctx.source, item), name=header_name or "")
    vendor_id = text(item.get("event_id"), 200) or text(item.get("id"), 200) or delivery
    event_id = scoped_id(ctx.source, vendor_id) if vendor_id else content_id(ctx.source, item)
    name = text(item.get("type")) or text(item.get("event")) or header_name or ""
    occurred_at = _when(item)
    properties = item.get("properties")

    def build() -> CanonicalEvent:
        return unknown_event(
            ctx,
            event_id=event_id,
            name=name,
            occurred_at=occurred_at,
            properties=properties if isinstance(properties, Mapping) else _scalars(item),
            person=_ids(item.get("person"), PERSON_ID_KINDS),
            account=_ids(item.get("account"), ACCOUNT_ID_KINDS),
        )

    return guarded(ctx, build, event_id=event_id, name=name, occurred_at=occurred_at)
