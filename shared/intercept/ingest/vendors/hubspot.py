"""HubSpot webhooks: contact and company events, many per request.

HubSpot posts a JSON array; each item becomes one event. HubSpot says ``eventId`` is not
guaranteed unique, so event ids are derived from the item's content without
``attemptNumber`` (a retried delivery then gets the same id).

Company property changes fill account traits of the tracking plan (``hubspot_owner_id`` ->
owner, ``lifecyclestage`` -> lifecycle_stage, ``annualrevenue`` / ``arr`` -> arr,
``renewal_date`` ...); contact property changes fill the person's traits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from intercept.errors import BadRequest
from intercept.events import CanonicalEvent
from intercept.ingest.normalise import (
    Context,
    Head,
    Outcome,
    clip,
    content_id,
    guarded,
    new_event,
    unknown_event,
)
from intercept.ingest.timeparse import TimestampError, from_epoch
from intercept.ingest.tracking import account_trait, email, text
from intercept.observability import logger

_DELIVERY_FIELDS = ("attemptNumber",)
# Limitation: hubspot_owner_id is HubSpot's numeric owner id; it becomes `owner` as is, not
# the owner's e-mail (that needs a call to HubSpot's owners API, which Ingest does not make).
COMPANY_TRAITS = {
    "hubspot_owner_id": "owner",
    "lifecyclestage": "lifecycle_stage",
    "annualrevenue": "arr",
    "arr": "arr",
    "mrr": "mrr",
    "renewal_date": "renewal_date",
    "name": "name",
    "domain": "domain",
    "website": "website",
    "plan": "plan",
    "seats": "seats",
    "usage_cap": "usage_cap",
    "account_executive": "account_executive",
    "createdate": "created_at",
}
CONTACT_TRAITS = {
    "lifecyclestage": "lifecycle_stage",
    "hubspot_owner_id": "owner",
    "firstname": "first_name",
    "lastname": "last_name",
    "jobtitle": "title",
}


def normalise(payload: Any, ctx: Context) -> Outcome:
    """A HubSpot webhook body (an array of events) -> one canonical event per item."""
    if isinstance(payload, Mapping):
        payload = [payload]
    if not isinstance(payload, list):
        raise BadRequest("a HubSpot webhook body must be a JSON array of events")
    return Outcome(events=[_item(item, ctx) for item in payload])


def _when(value: Any) -> datetime | None:
    try:
        return from_epoch(value, unit="ms") if value is not None else None
    except TimestampError:
        return None


def _item(item: Any, ctx: Context) -> CanonicalEvent:
    event_id = content_id(ctx.source, item, _DELIVERY_FIELDS)
    if not isinstance(item, Mapping):
        return unknown_event(ctx, event_id=event_id, name="unknown")
    name = text(item.get("eventType")) or text(item.get("subscriptionType")) or "unknown"
    occurred_at = _when(item.get("occurredAt"))

    def build() -> CanonicalEvent:
        head = Head(event_id, clip(name), occurred_at)
        if name.endswith(".associationChange"):
            return _association(ctx, head, item)
        if name.startswith("contact."):
            return _contact(ctx, head, name, item)
        if name.startswith("company."):
            return _company(ctx, head, name, item)
        if name.startswith("deal."):
            return _crm(ctx, head, properties=_change(item))
        return unknown_event(
            ctx,
            event_id=head.event_id,
            name=head.name,
            occurred_at=head.occurred_at,
            properties=_change(item),
        )

    return guarded(ctx, build, event_id=event_id, name=name, occurred_at=occurred_at)


def _change(item: Mapping[str, Any]) -> dict[str, Any]:
    changed = {
        "object_id": text(item.get("objectId")),
        "property": text(item.get("propertyName")),
        "value": item.get("propertyValue"),
        "change_source": text(item.get("changeSource")),
        "portal_id": text(item.get("portalId")),
    }
    return {key: value for key, value in changed.items() if value is not None}


def _crm(
    ctx: Context,
    head: Head,
    *,
    person: dict[str, str] | None = None,
    account: dict[str, str] | None = None,
    traits: dict[str, Any] | None = None,
    account_traits: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
) -> CanonicalEvent:
    return new_event(
        ctx,
        kind="crm",
        event_id=head.event_id,
        name=head.name,
        occurred_at=head.occurred_at,
        person=person or {},
        account=account or {},
        traits=traits or {},
        account_traits=account_traits or {},
        properties=properties or {},
    )


def _object_id(item: Mapping[str, Any]) -> str:
    object_id = text(item.get("objectId"), 64)
    if object_id is None:
        raise ValueError("HubSpot event without objectId")
    return object_id


def _contact(ctx: Context, head: Head, name: str, item: Mapping[str, Any]) -> CanonicalEvent:
    person = {"hubspot_contact": _object_id(item)}
    traits: dict[str, Any] = {}
    prop = text(item.get("propertyName"))
    if name == "contact.propertyChange" and prop:
        value = item.get("propertyValue")
        if prop == "email":
            if address := email(value):
                person["email"] = address
        else:
            traits[CONTACT_TRAITS.get(prop, prop)] = value
    return _crm(ctx, head, person=person, traits=traits, properties=_change(item))


def _company(ctx: Context, head: Head, name: str, item: Mapping[str, Any]) -> CanonicalEvent:
    account = {"hubspot_company": _object_id(item)}
    account_traits: dict[str, Any] = {}
    prop = text(item.get("propertyName"))
    if name == "company.propertyChange" and prop in COMPANY_TRAITS:
        key = COMPANY_TRAITS[prop]
        value, problem = account_trait(key, item.get("propertyValue"))
        if problem:
            logger.info("ignored company property", extra={"property": prop, "reason": problem})
        else:
            account_traits[key] = value
            if key == "website":
                account_traits.setdefault("domain", value)
    return _crm(ctx, head, account=account, account_traits=account_traits, properties=_change(item))


def _association(ctx: Context, head: Head, item: Mapping[str, Any]) -> CanonicalEvent:
    kind = (text(item.get("associationType")) or "").upper()
    source_id = text(item.get("fromObjectId"), 64)
    target_id = text(item.get("toObjectId"), 64)
    properties = {
        "association_type": kind,
        "from_object_id": source_id,
        "to_object_id": target_id,
        "removed": item.get("associationRemoved") is True,
    }
    if properties["removed"] or not (source_id and target_id):
        return _crm(ctx, head, properties=properties)
    if kind == "CONTACT_TO_COMPANY":
        person, account = {"hubspot_contact": source_id}, {"hubspot_company": target_id}
    elif kind == "COMPANY_TO_CONTACT":
        person, account = {"hubspot_contact": target_id}, {"hubspot_company": source_id}
    else:
        return _crm(ctx, head, properties=properties)
    return _crm(ctx, head, person=person, account=account, properties=properties)
