"""From a verified, parsed payload to canonical events: shared shapes and the dispatch.

Each route has a normaliser (`intercept.ingest.segment` and the modules under
`intercept.ingest.vendors`) with the signature ``normalise(payload, ctx) -> Outcome``. Live
ingest and `intercept replay` both come through `normalise`, so a replay produces the same
events, ids included.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intercept.events import CanonicalEvent, EventKind, derive_event_id
from intercept.ingest.models import ItemIssue
from intercept.observability import logger

NORMALISERS = {
    "segment": "intercept.ingest.segment",
    "stripe": "intercept.ingest.vendors.stripe",
    "zendesk": "intercept.ingest.vendors.zendesk",
    "hubspot": "intercept.ingest.vendors.hubspot",
    "intercom": "intercept.ingest.vendors.intercom",
    "generic": "intercept.ingest.vendors.generic",
}
_MAX_NAME = 256
_MAX_ID = 256


@dataclass(frozen=True)
class Context:
    """What a normaliser knows besides the payload."""

    source: str
    received_at: datetime
    archive_key: str = ""
    call: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Head:
    """The fields every event of a vendor item shares."""

    event_id: str
    name: str
    occurred_at: datetime | None


@dataclass
class Outcome:
    """Events to enqueue, items refused (with reasons) and what was changed on the way."""

    events: list[CanonicalEvent] = field(default_factory=list)
    rejected: list[ItemIssue] = field(default_factory=list)
    warnings: list[ItemIssue] = field(default_factory=list)

    @property
    def unknown(self) -> int:
        return sum(1 for event in self.events if event.kind == "unknown")


def normalise(route: str, payload: Any, ctx: Context) -> Outcome:
    """Normalise `payload` received on `route` (a key of `NORMALISERS`)."""
    module = importlib.import_module(NORMALISERS[route])
    outcome: Outcome = module.normalise(payload, ctx)
    return outcome


def scoped_id(source: str, vendor_id: str) -> str:
    """The event id for a vendor id that is unique within `source`."""
    event_id = f"{source}:{vendor_id}"
    return event_id if len(event_id) <= _MAX_ID else derive_event_id(source, vendor_id.encode())


def canonical_bytes(item: Any, exclude: Iterable[str] = ()) -> bytes:
    """A stable byte form of a parsed item (sorted keys), leaving out delivery-only fields."""
    if isinstance(item, Mapping):
        dropped = set(exclude)
        item = {key: value for key, value in item.items() if key not in dropped}
    return json.dumps(item, sort_keys=True, separators=(",", ":"), default=str).encode()


def content_id(source: str, item: Any, exclude: Iterable[str] = ()) -> str:
    """`derive_event_id` over the item's canonical bytes."""
    return derive_event_id(source, canonical_bytes(item, exclude))


def short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def clip(name: Any) -> str:
    return str(name)[:_MAX_NAME] if name is not None else ""


def dig(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...`` or ``None`` as soon as a step is not a mapping."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def new_event(
    ctx: Context,
    *,
    kind: EventKind,
    event_id: str,
    name: Any,
    occurred_at: datetime | None = None,
    **fields: Any,
) -> CanonicalEvent:
    """A canonical event with what every source fills the same way: source, clipped name,
    occurred_at (the receipt time when the sender gives none), received_at, archive key."""
    return CanonicalEvent(
        event_id=event_id,
        source=ctx.source,
        kind=kind,
        name=clip(name),
        occurred_at=occurred_at or ctx.received_at,
        received_at=ctx.received_at,
        archive_key=ctx.archive_key,
        **fields,
    )


def unknown_event(
    ctx: Context,
    *,
    event_id: str,
    name: Any,
    occurred_at: datetime | None = None,
    properties: Mapping[str, Any] | None = None,
    person: Mapping[str, str] | None = None,
    account: Mapping[str, str] | None = None,
) -> CanonicalEvent:
    """An event whose meaning Ingest does not know: kept, archived, counted, enqueued."""
    return new_event(
        ctx,
        kind="unknown",
        event_id=event_id,
        name=name,
        occurred_at=occurred_at,
        person=dict(person or {}),
        account=dict(account or {}),
        properties=dict(properties or {}),
    )


def guarded(
    ctx: Context,
    build: Callable[[], CanonicalEvent],
    *,
    event_id: str,
    name: Any,
    occurred_at: datetime | None = None,
) -> CanonicalEvent:
    """`build()`, or an unknown event when the payload's shape defeats the normaliser.

    A verified vendor payload is never dropped: whatever its shape, it becomes at least an
    unknown event pointing at the archived body.
    """
    try:
        return build()
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        logger.warning(
            "normalised event as unknown",
            extra={"source": ctx.source, "event_type": clip(name), "error": type(exc).__name__},
        )
        try:
            return unknown_event(ctx, event_id=event_id, name=name, occurred_at=occurred_at)
        except ValueError:
            return unknown_event(ctx, event_id=event_id, name=name)
