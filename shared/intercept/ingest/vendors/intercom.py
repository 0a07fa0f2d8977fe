"""Intercom notifications: conversations and their ratings, contacts and companies.

A conversation is a support thread (ticket id = conversation id): opened when a user starts
it, solved when an admin closes it; a rating of 4-5 counts as good and 1-2 as bad. Intercom's
``user_id`` / ``external_id`` is the product's own user id and ``company_id`` the product's
own account id, so they become ``user_id`` and ``group_id``.
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
from intercept.ingest.timeparse import TimestampError, from_epoch
from intercept.ingest.tracking import email, number, text

_DELIVERY_FIELDS = ("delivery_attempts", "delivered_at", "first_sent_at", "delivery_status")
PERSON_TYPES = frozenset({"user", "contact", "lead"})


def normalise(payload: Any, ctx: Context) -> Outcome:
    """One Intercom notification -> one canonical event."""
    if not isinstance(payload, Mapping):
        raise BadRequest("an Intercom webhook body must be a JSON object (a notification)")
    topic = text(payload.get("topic")) or "unknown"
    vendor_id = text(payload.get("id"))
    event_id = (
        scoped_id(ctx.source, vendor_id)
        if vendor_id
        else content_id(ctx.source, payload, _DELIVERY_FIELDS)
    )
    item = dig(payload, "data", "item")
    item = item if isinstance(item, Mapping) else {}
    occurred_at = _when(payload.get("created_at")) or _when(item.get("updated_at"))

    def build() -> CanonicalEvent:
        head = Head(event_id, clip(topic), occurred_at)
        if topic.startswith("conversation.") and item.get("type") == "conversation":
            return _conversation(ctx, head, topic, item)
        if item.get("type") in PERSON_TYPES:
            return _contact(ctx, head, topic, item)
        if item.get("type") == "company":
            return _company(ctx, head, item)
        if isinstance(item.get("contact"), Mapping) and isinstance(item.get("company"), Mapping):
            return _attachment(ctx, head, item)
        return unknown_event(
            ctx,
            event_id=head.event_id,
            name=head.name,
            occurred_at=head.occurred_at,
            properties={"item_type": text(item.get("type"))},
        )

    return Outcome(
        events=[guarded(ctx, build, event_id=event_id, name=topic, occurred_at=occurred_at)]
    )


def _when(value: Any) -> datetime | None:
    try:
        return from_epoch(value) if value not in (None, "", 0) else None
    except TimestampError:
        return None


def _person(contact: Any) -> dict[str, str]:
    if not isinstance(contact, Mapping):
        return {}
    person: dict[str, str] = {}
    if contact.get("type") in PERSON_TYPES and (internal := text(contact.get("id"), 64)):
        person["intercom_user"] = internal
    if own := text(contact.get("user_id"), 1024) or text(contact.get("external_id"), 1024):
        person["user_id"] = own
    if address := email(contact.get("email")):
        person["email"] = address
    return person


def _account(company: Any) -> dict[str, str]:
    if not isinstance(company, Mapping):
        return {}
    account: dict[str, str] = {}
    if internal := text(company.get("id"), 64):
        account["intercom_company"] = internal
    if own := text(company.get("company_id"), 1024):
        account["group_id"] = own
    return account


def _first_company(contact: Mapping[str, Any]) -> Any:
    companies = dig(contact, "companies", "companies") or dig(contact, "companies", "data")
    return companies[0] if isinstance(companies, list) and companies else None


def rating_satisfaction(rating: Any) -> str | None:
    """Intercom's 1-5 conversation rating as good (4-5) / bad (1-2); 3 is neither."""
    score = number(rating)
    if score is None:
        return None
    return "good" if score >= 4 else "bad" if score <= 2 else None


def _conversation(ctx: Context, head: Head, topic: str, item: Mapping[str, Any]) -> CanonicalEvent:
    contact = item.get("user")
    if not isinstance(contact, Mapping):
        contacts = dig(item, "contacts", "contacts")
        contact = (
            contacts[0]
            if isinstance(contacts, list) and contacts
            else dig(item, "source", "author")
        )
    rating = dig(item, "conversation_rating", "rating")
    state = text(item.get("state"), 32)
    if topic == "conversation.admin.closed":
        state = "closed"
    elif state is None and item.get("open") is True:
        state = "open"
    priority = "high" if item.get("priority") == "priority" else None
    properties = {"rating": number(rating)} if rating is not None else {}
    return new_event(
        ctx,
        kind="conversation",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        person=_person(contact),
        account=_account(_first_company(contact) if isinstance(contact, Mapping) else None),
        properties=properties,
        support=Support(
            ticket_id=text(item.get("id"), 64),
            status=state,
            priority=priority,
            satisfaction=rating_satisfaction(rating),
            opened=topic == "conversation.user.created",
            solved=topic == "conversation.admin.closed",
            escalated=topic == "conversation.priority.updated" and priority == "high",
            channel=text(dig(item, "source", "delivered_as"), 32) or "intercom",
        ),
    )


def _contact(ctx: Context, head: Head, topic: str, item: Mapping[str, Any]) -> CanonicalEvent:
    traits: dict[str, Any] = {}
    if isinstance(item.get("custom_attributes"), Mapping):
        traits.update(item["custom_attributes"])
    if name := text(item.get("name")):
        traits["name"] = name
    if item.get("type") == "lead" or item.get("role") == "lead":
        traits["lead"] = True
    return new_event(
        ctx,
        kind="identify",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        person=_person(item),
        account=_account(_first_company(item)),
        traits=traits,
        properties={"deleted": True} if topic.endswith(".deleted") else {},
    )


def _company(ctx: Context, head: Head, item: Mapping[str, Any]) -> CanonicalEvent:
    traits: dict[str, Any] = {}
    if name := text(item.get("name")):
        traits["name"] = name
    if plan := text(dig(item, "plan", "name")) or text(item.get("plan")):
        traits["plan"] = plan
    spend = number(item.get("monthly_spend"))
    if spend is not None and spend >= 0:
        traits["mrr"] = spend
    return new_event(
        ctx,
        kind="group",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        account=_account(item),
        account_traits=traits,
    )


def _attachment(ctx: Context, head: Head, item: Mapping[str, Any]) -> CanonicalEvent:
    return new_event(
        ctx,
        kind="identify",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        person=_person(item["contact"]),
        account=_account(item["company"]),
    )
