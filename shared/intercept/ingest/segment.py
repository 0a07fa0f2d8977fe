"""The Segment-compatible tracking API: write keys, limits, validation and normalisation.

Calls are validated with the models in `intercept.ingest.models` and mapped through the
tracking plan (`intercept.ingest.tracking`). In a batch every item stands alone: a bad item
is refused with its index, field and reason while the others are accepted.

Timestamps: strict ISO-8601 is used as sent; ISO order with one-digit fields
("2015-2-02T00:30:08.276Z") is read as written and answered with a warning; anything else
refuses the item, because dating it "now" would put old activity into today's usage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from pydantic import ValidationError

from intercept.errors import BadRequest
from intercept.events import CanonicalEvent, EventKind
from intercept.ingest import tracking
from intercept.ingest.models import CALL_MODELS, SEGMENT_CALLS, ItemIssue, SegmentMessage
from intercept.ingest.normalise import (
    Context,
    Outcome,
    canonical_bytes,
    new_event,
    scoped_id,
    short_hash,
)
from intercept.ingest.timeparse import TimestampError, parse_iso

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_EVENTS = 2500
CALLS = (*SEGMENT_CALLS, "batch")

# Fields that differ between deliveries of the same message; left out of assigned ids.
_DELIVERY_FIELDS = ("sentAt", "writeKey", "receivedAt", "messageId")


class ItemRejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


# ---------------------------------------------------------------------------- write keys


def offered_write_key(authorization: str, payload: Any) -> str:
    """The write key from Basic auth (user name, empty password) or from ``writeKey``."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() == "basic" and credentials.strip():
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return ""
        return decoded.partition(":")[0]
    if isinstance(payload, Mapping) and isinstance(payload.get("writeKey"), str):
        return str(payload["writeKey"])
    return ""


def source_for_write_key(key: str, write_keys: Mapping[str, str]) -> str | None:
    """The source a write key belongs to, compared in constant time; ``None`` if unknown."""
    if not key:
        return None
    offered = key.encode("utf-8", "replace")
    found = None
    for candidate, source in write_keys.items():
        if hmac.compare_digest(candidate.encode("utf-8"), offered):
            found = source
    return found


def write_key_id(key: str) -> str:
    """A short fingerprint of a write key, safe to store and log."""
    return short_hash(key.encode("utf-8", "replace"))


# ---------------------------------------------------------------------------- normalise


def normalise(payload: Any, ctx: Context) -> Outcome:
    """Events from one Segment call (``ctx.call``) or batch."""
    if not isinstance(payload, Mapping):
        raise BadRequest("the body must be a JSON object (a Segment call or batch)")
    if ctx.call == "batch":
        return _batch(payload, ctx)
    outcome = Outcome()
    _item(dict(payload, type=ctx.call), None, {}, ctx, outcome)
    return outcome


def _batch(payload: Mapping[str, Any], ctx: Context) -> Outcome:
    items = payload.get("batch")
    if not isinstance(items, list):
        raise BadRequest("'batch' must be a list of Segment calls (identify, track, ...)")
    if len(items) > MAX_BATCH_EVENTS:
        raise BadRequest(
            f"'batch' has {len(items)} calls; the limit is {MAX_BATCH_EVENTS} calls per batch"
        )
    shared = payload.get("context")
    shared = shared if isinstance(shared, Mapping) else {}
    outcome = Outcome()
    for index, item in enumerate(items):
        _item(item, index, shared, ctx, outcome)
    return outcome


def _item(
    raw: Any, index: int | None, shared: Mapping[str, Any], ctx: Context, outcome: Outcome
) -> None:
    message_id = raw.get("messageId") if isinstance(raw, Mapping) else None
    message_id = message_id if isinstance(message_id, str) else None
    try:
        event, warnings = _event(raw, index, shared, ctx)
    except ItemRejected as exc:
        outcome.rejected.append(
            ItemIssue(index=index, messageId=message_id, field=exc.field, reason=exc.reason)
        )
        return
    outcome.events.append(event)
    outcome.warnings.extend(
        ItemIssue(index=index, messageId=message_id, field=field, reason=reason)
        for field, reason in warnings
    )


def _event(
    raw: Any, index: int | None, shared: Mapping[str, Any], ctx: Context
) -> tuple[CanonicalEvent, list[tuple[str, str]]]:
    where = "" if index is None else f"batch[{index}]"
    if not isinstance(raw, Mapping):
        raise ItemRejected(where or "body", "each call must be a JSON object")
    size = len(json.dumps(raw, separators=(",", ":"), default=str).encode())
    if size > MAX_EVENT_BYTES:
        raise ItemRejected(
            where or "body",
            f"the call is {size} bytes; the limit is 32 KB ({MAX_EVENT_BYTES} bytes) per event",
        )
    call = raw.get("type")
    if call not in SEGMENT_CALLS:
        raise ItemRejected("type", f"type must be one of {', '.join(SEGMENT_CALLS)}")
    if shared and isinstance(raw.get("context", {}), Mapping):
        raw = dict(raw, context={**shared, **raw.get("context", {})})
    try:
        message = CALL_MODELS[str(call)].model_validate(raw)
    except ValidationError as exc:
        field, reason = _first_problem(exc)
        raise ItemRejected(field, reason) from None
    return _canonical(str(call), message, raw, ctx)


def assigned_message_id(raw: Mapping[str, Any]) -> str:
    """The messageId given to a call that has none: a hash of its content, so a resent call
    (or a replay) gets the same id and dedupes downstream."""
    digest = hashlib.sha256(canonical_bytes(raw, _DELIVERY_FIELDS)).hexdigest()
    return f"auto-{digest[:32]}"


def _first_problem(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"]) or "body"
    kind = error["type"]
    if kind == "missing":
        return field, f"'{field}' is required"
    if kind == "value_error":
        return field, str(error["msg"]).removeprefix("Value error, ")
    if kind in ("dict_type", "model_type"):
        return field, f"'{field}' must be a JSON object"
    if kind in ("string_type", "string_too_short", "string_too_long"):
        return field, f"'{field}': {error['msg']}"
    return field, f"'{field}': {error['msg']}"


def _occurred_at(message: SegmentMessage, ctx: Context) -> tuple[datetime, str | None]:
    # Limitation: no clock-skew correction from sentAt (Segment's receivedAt - (sentAt -
    # timestamp)); a device with a wrong clock dates its events wrongly.
    for field in ("timestamp", "originalTimestamp"):
        value = getattr(message, field)
        if value is None:
            continue
        try:
            return parse_iso(value)
        except TimestampError as exc:
            raise ItemRejected(field, str(exc)) from None
    return ctx.received_at, None


def _canonical(
    call: str, message: SegmentMessage, raw: Mapping[str, Any], ctx: Context
) -> tuple[CanonicalEvent, list[tuple[str, str]]]:
    warnings: list[tuple[str, str]] = []
    occurred_at, repaired = _occurred_at(message, ctx)
    if repaired:
        warnings.append(("timestamp", repaired))
    message_id = message.messageId or assigned_message_id(raw)
    traits: dict[str, Any] = (
        dict(getattr(message, "traits", None) or {}) if call == "identify" else {}
    )
    properties: dict[str, Any] = dict(getattr(message, "properties", None) or {})
    person = _person(call, message, traits)
    account: dict[str, str] = {}
    account_traits: dict[str, Any] = {}
    group_id = tracking.text(message.context.get("groupId"))
    if call == "group":
        group_id = tracking.text(getattr(message, "groupId", None), 1024)
        links, account_traits, trait_warnings = tracking.account_from_traits(
            getattr(message, "traits", None) or {}
        )
        account.update(links)
        warnings.extend(trait_warnings)
    if group_id:
        account["group_id"] = group_id
    name = tracking.text(getattr(message, "event" if call == "track" else "name", None), 256)
    name = name or ""
    usage = None
    if call in ("track", "page", "screen"):
        usage, usage_warnings = tracking.usage_from(
            name, properties, category=tracking.text(getattr(message, "category", None))
        )
        warnings.extend(usage_warnings)
    if call == "alias":
        properties = {"previous_id": getattr(message, "previousId", None)}
    event = new_event(
        ctx,
        kind=cast(EventKind, call),  # one of the Segment calls, checked above
        event_id=scoped_id(ctx.source, f"msg:{message_id}"),
        name=name,
        occurred_at=occurred_at,
        person=person,
        account=account,
        traits=traits,
        account_traits=account_traits,
        properties=properties,
        context=dict(message.context),
        usage=usage,
    )
    return event, warnings


def _person(call: str, message: SegmentMessage, traits: Mapping[str, Any]) -> dict[str, str]:
    person: dict[str, str] = {}
    if message.userId:
        person["user_id"] = message.userId
    if message.anonymousId:
        person["anonymous_id"] = message.anonymousId
    if call == "alias":
        previous = tracking.text(getattr(message, "previousId", None), 1024)
        if previous:
            person["anonymous_id"] = previous
    context_traits = message.context.get("traits")
    address = tracking.email(traits.get("email"))
    if address is None and isinstance(context_traits, Mapping):
        address = tracking.email(context_traits.get("email"))
    if address:
        person["email"] = address
    return person
