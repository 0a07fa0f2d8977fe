"""Stripe events: subscriptions and invoices with their meaning, customers as accounts.

MRR is the sum over licensed subscription items of unit price x quantity, normalised to one
month (day: x 365/12, week: x 52/12, year: / 12, divided by ``interval_count``), in major
currency units (cents / 100; zero-decimal currencies as they are). A canceled subscription
has MRR 0; what it used to be is kept in ``properties.subscription_mrr``. Discounts, taxes,
tiered and metered prices are not part of MRR (see docs/limitations.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from intercept.errors import BadRequest
from intercept.events import Billing, CanonicalEvent
from intercept.ingest.normalise import (
    Context,
    Outcome,
    content_id,
    dig,
    guarded,
    new_event,
    scoped_id,
    unknown_event,
)
from intercept.ingest.timeparse import TimestampError, from_epoch
from intercept.ingest.tracking import email, number, text

# Stripe's zero-decimal currencies: amounts are already in major units.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
# Months covered by one interval unit.
INTERVAL_MONTHS = {"day": 12 / 365, "week": 12 / 52, "month": 1.0, "year": 12.0}
PAYMENT_SUCCEEDED = frozenset({"invoice.paid", "invoice.payment_succeeded"})
PAYMENT_FAILED = frozenset({"invoice.payment_failed"})


def normalise(payload: Any, ctx: Context) -> Outcome:
    """One Stripe event (the body of one webhook delivery) -> one canonical event."""
    if not isinstance(payload, Mapping):
        raise BadRequest("a Stripe webhook body must be a JSON object (a Stripe event)")
    event_type = text(payload.get("type")) or "unknown"
    vendor_id = text(payload.get("id"))
    event_id = (
        scoped_id(ctx.source, vendor_id)
        if vendor_id
        else content_id(ctx.source, payload, exclude=("pending_webhooks", "request"))
    )
    occurred_at = _when(payload.get("created"))
    obj = dig(payload, "data", "object")
    obj = obj if isinstance(obj, Mapping) else {}

    def build() -> CanonicalEvent:
        if event_type.startswith("customer.subscription."):
            return _subscription(ctx, payload, obj, event_type, event_id, occurred_at)
        if event_type.startswith("invoice."):
            return _invoice(ctx, obj, event_type, event_id, occurred_at)
        if event_type in ("customer.created", "customer.updated", "customer.deleted"):
            return _customer(ctx, obj, event_type, event_id, occurred_at)
        return unknown_event(
            ctx,
            event_id=event_id,
            name=event_type,
            occurred_at=occurred_at,
            properties={"object": text(obj.get("object")), "object_id": text(obj.get("id"))},
            account=_account(obj),
        )

    event = guarded(ctx, build, event_id=event_id, name=event_type, occurred_at=occurred_at)
    return Outcome(events=[event])


def _when(value: Any) -> datetime | None:
    try:
        return from_epoch(value) if value is not None else None
    except TimestampError:
        return None


def _id_of(value: Any) -> str | None:
    """A Stripe reference: an id string, or an expanded object's ``id``."""
    return text(value.get("id")) if isinstance(value, Mapping) else text(value)


def _account(obj: Mapping[str, Any], *metadatas: Any) -> dict[str, str]:
    account: dict[str, str] = {}
    customer = obj.get("customer") if obj.get("object") != "customer" else obj.get("id")
    customer_id = _id_of(customer)
    if customer_id:
        account["stripe_customer"] = customer_id
    for metadata in (obj.get("metadata"), *metadatas):
        if not isinstance(metadata, Mapping):
            continue
        linked = text(metadata.get("account_id")) or text(metadata.get("group_id"))
        if linked:
            account["group_id"] = linked
            break
    return account


def major(amount_minor: float | None, currency: str | None) -> float | None:
    """Minor units (cents) to major units, honouring zero-decimal currencies."""
    if amount_minor is None or not math.isfinite(amount_minor):
        return None
    divisor = 1 if (currency or "").lower() in ZERO_DECIMAL else 100
    return round(amount_minor / divisor, 2)


def _item_mrr(item: Mapping[str, Any], quantity_default: Any) -> tuple[float, str, str, int]:
    """(monthly amount in minor units, currency, plan label, quantity) of a licensed item."""
    price = item.get("price") if isinstance(item.get("price"), Mapping) else item.get("plan")
    if not isinstance(price, Mapping):
        raise ValueError("subscription item has no price or plan")
    recurring = price.get("recurring")
    if not isinstance(recurring, Mapping):
        recurring = price
    if recurring.get("usage_type") == "metered":
        raise ValueError("metered price")
    interval = INTERVAL_MONTHS.get(str(recurring.get("interval")))
    count = number(recurring.get("interval_count")) or 1
    unit = next(
        (
            amount
            for key in ("unit_amount_decimal", "unit_amount", "amount_decimal", "amount")
            if (amount := number(price.get(key))) is not None
        ),
        None,
    )
    if interval is None or unit is None:
        raise ValueError("price without a recurring interval or a unit amount")
    quantity = number(item.get("quantity"))
    quantity = quantity if quantity is not None else number(quantity_default)
    seats = int(quantity) if quantity is not None and quantity >= 0 else 1
    label = (
        text(price.get("nickname"))
        or text(price.get("lookup_key"))
        or _id_of(price.get("product"))
        or text(price.get("id"))
        or ""
    )
    return unit * seats / (interval * count), text(price.get("currency")) or "", label, seats


def subscription_mrr(obj: Mapping[str, Any]) -> tuple[float | None, str | None, str | None, int]:
    """(MRR in major units, currency, plan, seats) of a Stripe subscription object.

    The plan and seats are those of the item contributing most MRR; metered, tiered and
    malformed items are left out. MRR is ``None`` when no item could be priced.
    """
    # Limitation: discounts, coupons, taxes, tiered and metered prices are left out of MRR;
    # the figure is list price x quantity of licensed items.
    items = dig(obj, "items", "data")
    if not isinstance(items, list) or not items:
        items = [obj] if obj.get("plan") or obj.get("price") else []
    priced = []
    for item in items:
        if isinstance(item, Mapping):
            try:
                priced.append(_item_mrr(item, obj.get("quantity")))
            except ValueError:
                continue
    if not priced:
        return None, text(obj.get("currency")), None, int(number(obj.get("quantity")) or 0)
    top = max(priced, key=lambda row: row[0])
    currency = top[1] or text(obj.get("currency"))
    total = sum(row[0] for row in priced)
    seats = number(obj.get("quantity"))
    return major(total, currency), currency, top[2] or None, int(seats) if seats else top[3]


def _subscription(
    ctx: Context,
    payload: Mapping[str, Any],
    obj: Mapping[str, Any],
    event_type: str,
    event_id: str,
    occurred_at: datetime | None,
) -> CanonicalEvent:
    mrr, currency, plan, seats = subscription_mrr(obj)
    status = text(obj.get("status"))
    canceled = event_type == "customer.subscription.deleted" or status in (
        "canceled",
        "incomplete_expired",
    )
    cancel_at = _when(obj.get("cancel_at"))
    if cancel_at is None and obj.get("cancel_at_period_end") is True:
        cancel_at = _when(obj.get("current_period_end"))
    properties: dict[str, Any] = {
        "subscription_mrr": mrr,
        "cancel_at_period_end": obj.get("cancel_at_period_end") is True,
    }
    previous = dig(payload, "data", "previous_attributes")
    if isinstance(previous, Mapping) and previous:
        properties["changed"] = sorted(str(key) for key in previous)
        if "status" in previous:
            properties["previous_status"] = text(previous.get("status"))
        if {"items", "plan", "quantity"} & set(previous):
            properties["previous_mrr"] = subscription_mrr({**obj, **previous})[0]
    return new_event(
        ctx,
        kind="billing",
        event_id=event_id,
        name=event_type,
        occurred_at=occurred_at,
        account=_account(obj),
        properties=properties,
        billing=Billing(
            subscription_id=text(obj.get("id")),
            status=status,
            plan=plan,
            mrr=0.0 if canceled else mrr,
            currency=currency,
            seats=seats if seats >= 0 else None,
            canceled=canceled,
            cancel_at=cancel_at,
        ),
    )


def _invoice(
    ctx: Context,
    obj: Mapping[str, Any],
    event_type: str,
    event_id: str,
    occurred_at: datetime | None,
) -> CanonicalEvent:
    currency = text(obj.get("currency"))
    succeeded = event_type in PAYMENT_SUCCEEDED
    failed = event_type in PAYMENT_FAILED
    amount_key = "amount_paid" if succeeded else "amount_due"
    attempts = number(obj.get("attempt_count"))
    next_attempt = _when(obj.get("next_payment_attempt"))
    person = {"email": address} if (address := email(obj.get("customer_email"))) else {}
    return new_event(
        ctx,
        kind="billing",
        event_id=event_id,
        name=event_type,
        occurred_at=occurred_at,
        person=person,
        account=_account(obj, dig(obj, "subscription_details", "metadata")),
        properties={
            "invoice_id": text(obj.get("id")),
            "billing_reason": text(obj.get("billing_reason")),
            "amount_due": major(number(obj.get("amount_due")), currency),
            "amount_paid": major(number(obj.get("amount_paid")), currency),
            "next_payment_attempt": next_attempt.isoformat() if next_attempt else None,
        },
        billing=Billing(
            subscription_id=_id_of(obj.get("subscription")),
            status=text(obj.get("status")),
            currency=currency,
            payment_failed=failed,
            payment_succeeded=succeeded,
            attempt_count=int(attempts) if attempts is not None and attempts >= 0 else None,
            amount=major(number(obj.get(amount_key)), currency),
        ),
    )


def _customer(
    ctx: Context,
    obj: Mapping[str, Any],
    event_type: str,
    event_id: str,
    occurred_at: datetime | None,
) -> CanonicalEvent:
    traits = {"name": name} if (name := text(obj.get("name"))) else {}
    person = {"email": address} if (address := email(obj.get("email"))) else {}
    return new_event(
        ctx,
        kind="group",
        event_id=event_id,
        name=event_type,
        occurred_at=occurred_at,
        person=person,
        account=_account(obj),
        account_traits=traits,
        properties={"deleted": event_type == "customer.deleted"},
    )
