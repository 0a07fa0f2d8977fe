"""Zendesk webhooks: ticket, user and organisation events.

Two body shapes are understood. Event-type subscriptions (``type`` =
``zen:event-type:ticket.created`` and so on, the ticket or user in ``detail``, a change in
``event``) are Zendesk's own. Trigger webhooks post a body the admin writes; the shape
documented in docs/ingest.md (``{"event": "ticket.solved", "ticket": {...}}``) is read too.

A ticket is *solved* on the change into solved or closed (not on every later event), and
*escalated* when its priority is changed to high or urgent (not when it is lowered).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from intercept.errors import BadRequest
from intercept.events import CanonicalEvent, Support
from intercept.ingest.normalise import (
    Context,
    Head,
    Outcome,
    clip,
    content_id,
    dig,
    guarded,
    new_event,
    scoped_id,
    unknown_event,
)
from intercept.ingest.timeparse import TimestampError, parse_any
from intercept.ingest.tracking import email, text

EVENT_TYPE_PREFIX = "zen:event-type:"
DONE = frozenset({"solved", "closed"})
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
SATISFACTION = {
    "good": "good",
    "good with comment": "good",
    "bad": "bad",
    "bad with comment": "bad",
    "offered": "offered",
    "unoffered": "unoffered",
}


def normalise(payload: Any, ctx: Context) -> Outcome:
    """One Zendesk webhook body -> one canonical event."""
    if not isinstance(payload, Mapping):
        raise BadRequest("a Zendesk webhook body must be a JSON object")
    if isinstance(payload.get("ticket"), Mapping) and "type" not in payload:
        return Outcome(events=[_trigger(payload, ctx)])
    kind = text(payload.get("type")) or "unknown"
    name = kind.removeprefix(EVENT_TYPE_PREFIX)
    vendor_id = text(payload.get("id"))
    event_id = scoped_id(ctx.source, vendor_id) if vendor_id else content_id(ctx.source, payload)
    occurred_at = _when(payload.get("time"))
    detail: Mapping[str, Any] = _mapping(payload.get("detail"))
    change: Mapping[str, Any] = _mapping(payload.get("event"))

    def build() -> CanonicalEvent:
        head = Head(event_id, clip(name), occurred_at)
        if name.startswith("ticket."):
            return _ticket(ctx, head, name, detail, change)
        if name.startswith("user."):
            return _user(ctx, head, name, detail, change)
        if name.startswith("organization."):
            return _organization(ctx, head, detail)
        return unknown_event(
            ctx,
            event_id=head.event_id,
            name=head.name,
            occurred_at=head.occurred_at,
            properties={"subject": text(payload.get("subject"))},
        )

    return Outcome(
        events=[guarded(ctx, build, event_id=event_id, name=name, occurred_at=occurred_at)]
    )


def _when(value: Any) -> datetime | None:
    try:
        return parse_any(value) if value not in (None, "") else None
    except TimestampError:
        return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _lower(value: Any) -> str | None:
    shown = text(value, 64)
    return shown.lower() if shown else None


def _id(value: Any) -> str | None:
    """A Zendesk id; ``0`` and empty mean none."""
    shown = text(value, 64)
    return shown if shown and shown != "0" else None


def satisfaction(value: Any) -> str | None:
    """good / bad / offered / unoffered from a rating string or a ``{"score": ...}`` object."""
    if isinstance(value, Mapping):
        value = value.get("score") or value.get("rating")
    shown = _lower(value)
    return SATISFACTION.get(shown) if shown else None


def _people(detail: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    person: dict[str, str] = {}
    requester = _id(detail.get("requester_id")) or _id(dig(detail, "requester", "id"))
    if requester:
        person["zendesk_user"] = requester
    address = email(dig(detail, "requester", "email")) or email(detail.get("requester_email"))
    if address:
        person["email"] = address
    account: dict[str, str] = {}
    organization = _id(detail.get("organization_id")) or _id(dig(detail, "organization", "id"))
    if organization:
        account["zendesk_organization"] = organization
    return person, account


def _ticket(
    ctx: Context,
    head: Head,
    name: str,
    detail: Mapping[str, Any],
    change: Mapping[str, Any],
) -> CanonicalEvent:
    status = _lower(detail.get("status"))
    priority = _lower(detail.get("priority"))
    previous_status = previous_priority = None
    if name == "ticket.status_changed":
        status = _lower(change.get("current")) or status
        previous_status = _lower(change.get("previous"))
    if name == "ticket.priority_changed":
        priority = _lower(change.get("current")) or priority
        previous_priority = _lower(change.get("previous"))
    rated = satisfaction(detail.get("satisfaction_rating"))
    if "satisfaction" in name or "csat" in name:
        rated = satisfaction(change.get("current")) or rated
    solved = status in DONE and (
        name == "ticket.created"
        or (name == "ticket.status_changed" and previous_status not in DONE)
    )
    escalated = (
        name == "ticket.priority_changed"
        and priority in ("high", "urgent")
        and PRIORITY_RANK.get(previous_priority or "", 0) <= PRIORITY_RANK[priority or "low"]
    )
    person, account = _people(detail)
    return _support_event(
        ctx,
        head,
        person,
        account,
        Support(
            ticket_id=text(detail.get("id"), 64),
            status=status,
            priority=priority,
            satisfaction=rated,
            opened=name == "ticket.created",
            solved=solved,
            escalated=escalated,
            channel=_lower(dig(detail, "via", "channel")),
        ),
        {
            "ticket_type": _lower(detail.get("type")),
            "tags": detail.get("tags") if isinstance(detail.get("tags"), list) else [],
            "previous_status": previous_status,
            "previous_priority": previous_priority,
        },
    )


def _support_event(
    ctx: Context,
    head: Head,
    person: dict[str, str],
    account: dict[str, str],
    support: Support,
    properties: dict[str, Any],
) -> CanonicalEvent:
    return new_event(
        ctx,
        kind="support",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        person=person,
        account=account,
        properties={key: value for key, value in properties.items() if value not in (None, [])},
        support=support,
    )


def _user(
    ctx: Context,
    head: Head,
    name: str,
    detail: Mapping[str, Any],
    change: Mapping[str, Any],
) -> CanonicalEvent:
    person = {"zendesk_user": _id(detail.get("id")) or ""}
    if address := email(detail.get("email")):
        person["email"] = address
    account = {"zendesk_organization": org} if (org := _id(detail.get("organization_id"))) else {}
    traits: dict[str, Any] = {"role": _lower(detail.get("role"))}
    if external := text(detail.get("external_id")):
        traits["external_id"] = external
    if name == "user.active_changed" and isinstance(change.get("current"), bool):
        traits["active"] = change["current"]
    return new_event(
        ctx,
        kind="identify",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        person=person,
        account=account,
        traits={key: value for key, value in traits.items() if value is not None},
    )


def _organization(ctx: Context, head: Head, detail: Mapping[str, Any]) -> CanonicalEvent:
    organization = _id(detail.get("id"))
    if organization is None:
        raise ValueError("organization event without an id")
    traits = {"name": name} if (name := text(detail.get("name"))) else {}
    return new_event(
        ctx,
        kind="group",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        account={"zendesk_organization": organization},
        account_traits=traits,
    )


def _trigger(payload: Mapping[str, Any], ctx: Context) -> CanonicalEvent:
    """A trigger webhook body in the documented ``{"event": ..., "ticket": {...}}`` shape."""
    ticket: Mapping[str, Any] = payload["ticket"]
    name = text(payload.get("event"), 64) or "ticket.updated"
    event_id = content_id(ctx.source, payload)
    occurred_at = _when(ticket.get("updated_at"))

    def build() -> CanonicalEvent:
        person, account = _people(ticket)
        status = _lower(ticket.get("status"))
        support = Support(
            ticket_id=text(ticket.get("id"), 64),
            status=status,
            priority=_lower(ticket.get("priority")),
            satisfaction=satisfaction(ticket.get("satisfaction")),
            opened=name == "ticket.created",
            solved=name == "ticket.solved",
            escalated=name == "ticket.escalated",
            channel=_lower(ticket.get("channel")),
        )
        head = Head(event_id, clip(name), occurred_at)
        return _support_event(ctx, head, person, account, support, {"trigger": True})

    return guarded(ctx, build, event_id=event_id, name=name, occurred_at=occurred_at)
