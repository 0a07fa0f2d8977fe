"""Vendor normalisers: meaning extracted, odd shapes kept as unknown, nothing dropped."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from intercept.ingest.normalise import Context, normalise
from intercept.ingest.vendors.stripe import subscription_mrr

RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def ctx(source: str, headers: dict[str, str] | None = None) -> Context:
    return Context(source, RECEIVED, archive_key=f"raw/{source}/k.json", headers=headers or {})


def price(unit: int, interval: str = "month", count: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": "price_1",
        "currency": extra.pop("currency", "usd"),
        "unit_amount": unit,
        "nickname": extra.pop("nickname", None),
        "product": "prod_1",
        "recurring": {"interval": interval, "interval_count": count, **extra},
    }


def subscription(items: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": "active",
        "items": {"data": items},
        **fields,
    }


def stripe_event(event_type: str, obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "evt_1",
        "type": event_type,
        "created": 1767225600,
        "data": {"object": obj, **extra},
    }


# ---------------------------------------------------------------------------- Stripe


@pytest.mark.parametrize(
    ("unit", "interval", "count", "quantity", "mrr"),
    [
        (4900, "month", 1, 12, 588.0),
        (120000, "year", 1, 1, 100.0),
        (30000, "month", 3, 2, 200.0),
        (1000, "week", 1, 1, round(1000 * 52 / 12 / 100, 2)),
        (100, "day", 1, 1, round(100 * 365 / 12 / 100, 2)),
    ],
)
def test_stripe_mrr_normalises_interval_to_month(
    unit: int, interval: str, count: int, quantity: int, mrr: float
) -> None:
    obj = subscription([{"quantity": quantity, "price": price(unit, interval, count)}])
    assert subscription_mrr(obj)[0] == mrr


def test_stripe_mrr_sums_items_skips_metered_and_reads_legacy_plan() -> None:
    obj = subscription(
        [
            {"quantity": 10, "price": price(1000, nickname="Seats")},
            {"quantity": 1, "price": price(5000, nickname="Platform")},
            {"quantity": 1, "price": price(10, usage_type="metered")},
        ]
    )
    mrr, currency, plan, seats = subscription_mrr(obj)
    assert (mrr, currency, plan, seats) == (150.0, "usd", "Seats", 10)
    legacy = {"plan": {"amount": 2500, "interval": "month", "currency": "usd"}, "quantity": 4}
    assert subscription_mrr(legacy)[:2] == (100.0, "usd")


def test_stripe_zero_decimal_currency_is_not_divided() -> None:
    obj = subscription([{"quantity": 1, "price": price(5000, currency="jpy")}])
    assert subscription_mrr(obj)[0] == 5000.0


def test_stripe_subscription_updated_reports_change_and_cancellation() -> None:
    obj = subscription(
        [{"quantity": 12, "price": price(4900)}],
        quantity=12,
        cancel_at_period_end=True,
        current_period_end=1769904000,
        metadata={"account_id": "acct-1"},
    )
    previous = {"quantity": 15, "items": {"data": [{"quantity": 15, "price": price(4900)}]}}
    payload = stripe_event("customer.subscription.updated", obj, previous_attributes=previous)
    [event] = normalise("stripe", payload, ctx("stripe")).events
    assert event.kind == "billing" and event.event_id == "stripe:evt_1"
    assert event.account == {"stripe_customer": "cus_1", "group_id": "acct-1"}
    assert event.billing is not None
    assert (event.billing.mrr, event.billing.seats, event.billing.canceled) == (588.0, 12, False)
    assert event.billing.cancel_at == datetime(2026, 2, 1, tzinfo=UTC)
    assert event.properties["previous_mrr"] == 735.0
    assert event.properties["changed"] == ["items", "quantity"]


def test_stripe_subscription_deleted_has_zero_mrr_and_keeps_former() -> None:
    obj = subscription([{"quantity": 2, "price": price(1000)}], status="canceled")
    [event] = normalise(
        "stripe", stripe_event("customer.subscription.deleted", obj), ctx("stripe")
    ).events
    assert event.billing is not None
    assert (event.billing.mrr, event.billing.canceled) == (0.0, True)
    assert event.properties["subscription_mrr"] == 20.0


def test_stripe_invoice_payment_failed_carries_attempts_and_amount() -> None:
    obj = {
        "id": "in_1",
        "object": "invoice",
        "customer": {"id": "cus_9", "object": "customer"},
        "customer_email": "Billing@Acme.example",
        "subscription": "sub_1",
        "currency": "usd",
        "amount_due": 58800,
        "amount_paid": 0,
        "attempt_count": 3,
        "status": "open",
    }
    [event] = normalise("stripe", stripe_event("invoice.payment_failed", obj), ctx("stripe")).events
    assert event.billing is not None
    assert event.billing.payment_failed and not event.billing.payment_succeeded
    assert (event.billing.attempt_count, event.billing.amount) == (3, 588.0)
    assert event.account == {"stripe_customer": "cus_9"}
    assert event.person == {"email": "billing@acme.example"}


def test_stripe_customer_event_is_an_account() -> None:
    obj = {"id": "cus_5", "object": "customer", "name": "Acme", "metadata": {"group_id": "g-5"}}
    [event] = normalise("stripe", stripe_event("customer.updated", obj), ctx("stripe")).events
    assert event.kind == "group"
    assert event.account == {"stripe_customer": "cus_5", "group_id": "g-5"}
    assert event.account_traits == {"name": "Acme"}


def test_stripe_unknown_type_is_kept_as_unknown() -> None:
    obj = {"id": "ch_1", "object": "charge", "customer": "cus_1"}
    [event] = normalise("stripe", stripe_event("charge.refunded", obj), ctx("stripe")).events
    assert (event.kind, event.name) == ("unknown", "charge.refunded")
    assert event.account == {"stripe_customer": "cus_1"}
    assert event.archive_key == "raw/stripe/k.json"


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "customer.subscription.updated", "data": "oops"},
        {"type": "invoice.paid", "id": "evt_2", "data": {"object": {"amount_paid": -5}}},
        {"id": "evt_3"},
        {"type": 7, "created": "never"},
    ],
)
def test_stripe_odd_shapes_become_unknown_or_typed_never_raise(payload: dict[str, Any]) -> None:
    [event] = normalise("stripe", payload, ctx("stripe")).events
    assert event.source == "stripe" and event.event_id.startswith("stripe:")


# ---------------------------------------------------------------------------- Zendesk


def zendesk(
    kind: str, detail: dict[str, Any], change: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "zd-1",
        "type": f"zen:event-type:{kind}",
        "time": "2026-03-01T10:00:00.123456789Z",
        "detail": detail,
        "event": change or {},
    }


TICKET = {
    "id": "9001",
    "status": "OPEN",
    "priority": "NORMAL",
    "requester_id": "70",
    "organization_id": "80",
}


def test_zendesk_status_change_into_solved_is_a_solve_once() -> None:
    solved = zendesk("ticket.status_changed", TICKET, {"current": "SOLVED", "previous": "OPEN"})
    [event] = normalise("zendesk", solved, ctx("zendesk")).events
    assert event.support is not None
    assert (event.support.status, event.support.solved) == ("solved", True)
    assert event.person == {"zendesk_user": "70"}
    assert event.account == {"zendesk_organization": "80"}
    closed = zendesk("ticket.status_changed", TICKET, {"current": "CLOSED", "previous": "SOLVED"})
    [event] = normalise("zendesk", closed, ctx("zendesk")).events
    assert event.support is not None and event.support.solved is False


def test_zendesk_priority_rise_to_urgent_is_an_escalation() -> None:
    payload = zendesk(
        "ticket.priority_changed", TICKET, {"current": "URGENT", "previous": "NORMAL"}
    )
    [event] = normalise("zendesk", payload, ctx("zendesk")).events
    assert event.support is not None
    assert (event.support.priority, event.support.escalated) == ("urgent", True)
    lowered = zendesk("ticket.priority_changed", TICKET, {"current": "HIGH", "previous": "URGENT"})
    [event] = normalise("zendesk", lowered, ctx("zendesk")).events
    assert event.support is not None and event.support.escalated is False


def test_zendesk_satisfaction_from_rating() -> None:
    detail = {**TICKET, "satisfaction_rating": {"score": "bad"}}
    [event] = normalise("zendesk", zendesk("ticket.comment_added", detail), ctx("zendesk")).events
    assert event.support is not None and event.support.satisfaction == "bad"


def test_zendesk_organisation_zero_means_none_and_user_event_is_identify() -> None:
    detail = {"id": "61", "email": "Ann@Acme.example", "organization_id": "0", "role": "end-user"}
    payload = zendesk("user.active_changed", detail, {"current": False, "previous": True})
    [event] = normalise("zendesk", payload, ctx("zendesk")).events
    assert event.kind == "identify"
    assert event.person == {"zendesk_user": "61", "email": "ann@acme.example"}
    assert event.account == {}
    assert event.traits == {"role": "end-user", "active": False}


def test_zendesk_trigger_body_in_documented_shape() -> None:
    payload = {
        "event": "ticket.solved",
        "ticket": {
            "id": "77",
            "status": "Solved",
            "priority": "High",
            "requester": {"id": "70", "email": "ann@acme.example"},
            "organization": {"id": "80"},
            "satisfaction": "Good with comment",
        },
    }
    [event] = normalise("zendesk", payload, ctx("zendesk")).events
    assert event.support is not None
    assert (event.support.ticket_id, event.support.solved) == ("77", True)
    assert event.support.satisfaction == "good"
    assert event.person == {"zendesk_user": "70", "email": "ann@acme.example"}


def test_zendesk_ticket_without_id_is_kept_as_unknown() -> None:
    [event] = normalise("zendesk", zendesk("ticket.created", {}), ctx("zendesk")).events
    assert (event.kind, event.name) == ("unknown", "ticket.created")


# ---------------------------------------------------------------------------- HubSpot


def hubspot(event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "eventId": 1,
        "subscriptionId": 2,
        "portalId": 3,
        "occurredAt": 1767225600000,
        "eventType": event_type,
        "attemptNumber": 0,
        **fields,
    }


def test_hubspot_company_properties_map_to_account_traits() -> None:
    payload = [
        hubspot(
            "company.propertyChange",
            objectId=5,
            propertyName="hubspot_owner_id",
            propertyValue="31",
        ),
        hubspot(
            "company.propertyChange",
            objectId=5,
            propertyName="annualrevenue",
            propertyValue="1.2e5",
        ),
        hubspot(
            "company.propertyChange",
            objectId=5,
            propertyName="renewal_date",
            propertyValue="1782777600000",
        ),
        hubspot(
            "company.propertyChange",
            objectId=5,
            propertyName="lifecyclestage",
            propertyValue="customer",
        ),
        hubspot(
            "company.propertyChange", objectId=5, propertyName="annualrevenue", propertyValue="n/a"
        ),
    ]
    events = normalise("hubspot", payload, ctx("hubspot")).events
    assert [event.account_traits for event in events] == [
        {"owner": "31"},
        {"arr": 120000.0},
        {"renewal_date": "2026-06-30"},
        {"lifecycle_stage": "customer"},
        {},
    ]
    assert all(event.account == {"hubspot_company": "5"} for event in events)
    assert all(event.kind == "crm" for event in events)


def test_hubspot_event_id_ignores_attempt_number_but_not_content() -> None:
    first = hubspot("contact.creation", objectId=9)
    retry = {**first, "attemptNumber": 3}
    other = {**first, "objectId": 10}
    ids = [e.event_id for e in normalise("hubspot", [first, retry, other], ctx("hubspot")).events]
    assert ids[0] == ids[1] != ids[2]


def test_hubspot_contact_changes_fill_person_traits_and_email() -> None:
    payload = [
        hubspot(
            "contact.propertyChange", objectId=9, propertyName="email", propertyValue="A@B.example"
        ),
        hubspot("contact.propertyChange", objectId=9, propertyName="jobtitle", propertyValue="CTO"),
    ]
    events = normalise("hubspot", payload, ctx("hubspot")).events
    assert events[0].person == {"hubspot_contact": "9", "email": "a@b.example"}
    assert events[1].traits == {"title": "CTO"}


def test_hubspot_association_links_contact_to_company() -> None:
    payload = [
        hubspot(
            "contact.associationChange",
            fromObjectId=9,
            toObjectId=5,
            associationType="CONTACT_TO_COMPANY",
            associationRemoved=False,
        ),
        hubspot(
            "contact.associationChange",
            fromObjectId=9,
            toObjectId=5,
            associationType="CONTACT_TO_COMPANY",
            associationRemoved=True,
        ),
    ]
    linked, removed = normalise("hubspot", payload, ctx("hubspot")).events
    assert (linked.person, linked.account) == ({"hubspot_contact": "9"}, {"hubspot_company": "5"})
    assert (removed.person, removed.account) == ({}, {})


def test_hubspot_non_object_items_and_unknown_types_are_kept() -> None:
    events = normalise(
        "hubspot", [5, hubspot("conversation.creation", objectId=1)], ctx("hubspot")
    ).events
    assert [event.kind for event in events] == ["unknown", "unknown"]


# ---------------------------------------------------------------------------- Intercom


def intercom(topic: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "notification_event",
        "id": "notif_1",
        "topic": topic,
        "created_at": 1767225600,
        "data": {"item": item},
    }


CONVERSATION = {
    "type": "conversation",
    "id": "880",
    "contacts": {"contacts": [{"type": "contact", "id": "c-1", "external_id": "u-1"}]},
}


@pytest.mark.parametrize(
    ("rating", "satisfaction"), [(5, "good"), (4, "good"), (3, None), (1, "bad")]
)
def test_intercom_rating_maps_to_satisfaction(rating: int, satisfaction: str | None) -> None:
    item = {**CONVERSATION, "conversation_rating": {"rating": rating}}
    [event] = normalise(
        "intercom", intercom("conversation.rating.added", item), ctx("intercom")
    ).events
    assert event.kind == "conversation"
    assert event.support is not None and event.support.satisfaction == satisfaction
    assert event.person == {"intercom_user": "c-1", "user_id": "u-1"}
    assert event.properties == {"rating": rating}


def test_intercom_admin_close_solves_the_conversation() -> None:
    [event] = normalise(
        "intercom", intercom("conversation.admin.closed", CONVERSATION), ctx("intercom")
    ).events
    assert event.support is not None
    assert (event.support.status, event.support.solved, event.support.opened) == (
        "closed",
        True,
        False,
    )


def test_intercom_company_maps_own_id_to_group_id() -> None:
    item = {
        "type": "company",
        "id": "ic-5",
        "company_id": "acct-5",
        "name": "Acme",
        "monthly_spend": 49,
    }
    [event] = normalise("intercom", intercom("company.created", item), ctx("intercom")).events
    assert event.kind == "group"
    assert event.account == {"intercom_company": "ic-5", "group_id": "acct-5"}
    assert event.account_traits == {"name": "Acme", "mrr": 49.0}


def test_intercom_ping_and_id_less_notifications_are_unknown_with_stable_id() -> None:
    ping = {
        "type": "notification_event",
        "topic": "ping",
        "data": {"item": {"type": "ping"}},
        "delivery_attempts": 1,
    }
    first = normalise("intercom", ping, ctx("intercom")).events[0]
    second = normalise("intercom", {**ping, "delivery_attempts": 2}, ctx("intercom")).events[0]
    assert first.kind == "unknown" and first.event_id == second.event_id


# ---------------------------------------------------------------------------- generic


def test_generic_single_object_uses_delivery_header_and_declared_identities() -> None:
    headers = {"x-github-delivery": "d-1", "x-github-event": "push"}
    payload = {
        "ref": "main",
        "person": {"email": "A@B.example", "shoe_size": "9"},
        "account": {"group_id": "g"},
    }
    [event] = normalise("generic", payload, ctx("github", headers)).events
    assert (event.event_id, event.name, event.kind) == ("github:d-1", "push", "unknown")
    assert event.person == {"email": "a@b.example"}
    assert event.account == {"group_id": "g"}
    assert event.properties["ref"] == "main"


def test_generic_array_items_get_own_ids() -> None:
    payload = [{"id": "a", "type": "x"}, {"type": "y"}, 3]
    events = normalise("generic", payload, ctx("github", {"x-github-delivery": "d-1"})).events
    assert events[0].event_id == "github:a"
    assert events[1].event_id.startswith("github:") and events[1].event_id != "github:d-1"
    assert len(events) == 3


def test_normalisers_do_not_modify_the_payload() -> None:
    payload = [
        hubspot(
            "company.propertyChange", objectId=5, propertyName="website", propertyValue="acme.io"
        )
    ]
    before = copy.deepcopy(payload)
    normalise("hubspot", payload, ctx("hubspot"))
    assert payload == before


def test_stripe_absurd_quantities_do_not_make_infinite_mrr() -> None:
    obj = subscription([{"quantity": 1e308, "price": price(10**6)}])
    [event] = normalise(
        "stripe", stripe_event("customer.subscription.updated", obj), ctx("stripe")
    ).events
    assert event.billing is not None and event.billing.mrr is None


def test_zendesk_priority_change_on_an_urgent_ticket_still_escalates() -> None:
    payload = zendesk(
        "ticket.priority_changed", TICKET, {"current": "URGENT", "previous": "URGENT"}
    )
    [event] = normalise("zendesk", payload, ctx("zendesk")).events
    assert event.support is not None and event.support.escalated is True
