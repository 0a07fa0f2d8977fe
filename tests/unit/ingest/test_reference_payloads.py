"""Every vendor payload in the reference folder normalises, quirks included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intercept.ingest.normalise import Context, normalise

RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text())


def run(route: str, payload: Any, source: str, call: str = "") -> Any:
    return normalise(route, payload, Context(source, RECEIVED, "raw/k.json", call=call))


def test_reference_segment_batch_accepts_all_four_with_reasons_for_items_3_and_4(
    reference_payloads: Path,
) -> None:
    outcome = run("segment", load(reference_payloads, "segment_batch.json"), "web", "batch")
    assert [event.kind for event in outcome.events] == ["identify", "track", "identify", "track"]
    assert [(w.index, w.field) for w in outcome.warnings] == [(2, "timestamp"), (3, "timestamp")]
    assert all("2015-2-02T00:30" in w.reason for w in outcome.warnings)
    assert outcome.events[2].occurred_at == datetime(2015, 2, 2, 0, 30, 8, 276000, tzinfo=UTC)
    assert outcome.events[1].occurred_at == datetime(2012, 12, 2, 0, 30, 12, 984000, tzinfo=UTC)
    assert outcome.events[0].person == {"user_id": "019mr8mf4r", "email": "jake@yahoo.com"}
    assert outcome.events[1].context == {"device": {"type": "phone", "name": "Apple iPhone 6"}}
    assert outcome.rejected == []
    assert len({event.event_id for event in outcome.events}) == 4


@pytest.mark.parametrize(
    ("name", "call", "kind", "person", "account"),
    [
        (
            "segment_track.json",
            "track",
            "track",
            {"user_id": "AiUGstSDIg", "anonymous_id": "23adfd82-aa0f-45a7-a756-24f2a7a4c895"},
            {},
        ),
        (
            "segment_identify.json",
            "identify",
            "identify",
            {
                "user_id": "97980cfea0067",
                "anonymous_id": "507f191e810c19729de860ea",
                "email": "peter@example.com",
            },
            {},
        ),
        (
            "segment_group.json",
            "group",
            "group",
            {"user_id": "97980cfea0067", "anonymous_id": "507f191e810c19729de860ea"},
            {"group_id": "0e8c78ea9d97a7b8185e8632"},
        ),
        (
            "segment_http_group.json",
            "group",
            "group",
            {"user_id": "019mr8mf4r"},
            {"group_id": "8e9df332ac"},
        ),
        (
            "segment_webhooks_destination_identify.json",
            "identify",
            "identify",
            {"user_id": "019mr8mf4r", "email": "achilles@segment.com"},
            {},
        ),
    ],
)
def test_reference_segment_calls_normalise(
    reference_payloads: Path,
    name: str,
    call: str,
    kind: str,
    person: dict[str, str],
    account: dict[str, str],
) -> None:
    payload = load(reference_payloads, name)
    outcome = run("segment", payload, "web", call)
    [event] = outcome.events
    assert (event.kind, event.person, event.account) == (kind, person, account)
    assert outcome.rejected == []
    if payload.get("messageId"):
        assert event.event_id == f"web:msg:{payload['messageId']}"
    assert event.occurred_at == datetime.fromisoformat(payload["timestamp"])


def test_reference_segment_group_traits_become_account_traits(reference_payloads: Path) -> None:
    [event] = run("segment", load(reference_payloads, "segment_group.json"), "web", "group").events
    assert event.account_traits["name"] == "Initech"
    assert event.account_traits["plan"] == "enterprise"
    assert event.account_traits["employees"] == 329


def test_reference_stripe_subscription_deleted(reference_payloads: Path) -> None:
    payload = load(reference_payloads, "stripe_customer.subscription.deleted.json")
    [event] = run("stripe", payload, "stripe").events
    assert (event.kind, event.event_id) == ("billing", "stripe:evt_000000000000000000000000")
    assert event.account == {"stripe_customer": "cus_00000000000000"}
    assert event.billing is not None
    assert event.billing.status == "canceled" and event.billing.canceled
    assert (event.billing.mrr, event.billing.seats, event.billing.currency) == (0.0, 1, "usd")
    assert event.properties["subscription_mrr"] == 15.0
    assert event.occurred_at == datetime.fromtimestamp(1648320097, tz=UTC)


def test_reference_stripe_subscription_updated(reference_payloads: Path) -> None:
    payload = load(reference_payloads, "stripe_customer.subscription.updated.json")
    [event] = run("stripe", payload, "stripe").events
    assert event.billing is not None
    assert (event.billing.status, event.billing.mrr, event.billing.canceled) == (
        "active",
        15.0,
        False,
    )
    assert event.billing.subscription_id == "sub_000000000000000000000000"
    assert event.properties["changed"] == ["schedule"]


@pytest.mark.parametrize(
    ("name", "failed", "amount"),
    [("stripe_invoice.paid.json", False, 20.0), ("stripe_invoice.payment_failed.json", True, 20.0)],
)
def test_reference_stripe_invoices(
    reference_payloads: Path, name: str, failed: bool, amount: float
) -> None:
    [event] = run("stripe", load(reference_payloads, name), "stripe").events
    assert event.billing is not None
    assert event.billing.payment_failed is failed
    assert event.billing.payment_succeeded is not failed
    assert (event.billing.amount, event.billing.attempt_count) == (amount, 1)
    assert event.account == {"stripe_customer": "cus_00000000000000"}


def test_reference_zendesk_ticket_created(reference_payloads: Path) -> None:
    [event] = run(
        "zendesk", load(reference_payloads, "zendesk_ticket.created.json"), "zendesk"
    ).events
    assert (event.kind, event.event_id) == (
        "support",
        "zendesk:cbe4028c-7239-495d-b020-f22348516046",
    )
    assert event.support is not None
    assert (event.support.ticket_id, event.support.status, event.support.priority) == (
        "5158",
        "open",
        "low",
    )
    assert event.support.opened and not event.support.solved
    assert event.person == {"zendesk_user": "8447388090494"}
    assert event.account == {"zendesk_organization": "8447346622462"}
    assert event.occurred_at == datetime(2025, 1, 8, 10, 12, 7, 672717, tzinfo=UTC)


def test_reference_zendesk_user_with_obfuscated_email(reference_payloads: Path) -> None:
    payload = load(reference_payloads, "zendesk_user.active_changed.json")
    [event] = run("zendesk", payload, "zendesk").events
    assert event.kind == "identify"
    assert event.person == {"zendesk_user": "6596848315901"}
    assert event.account == {}
    assert event.traits["active"] is False


def test_reference_hubspot_array_gives_one_event_per_item(reference_payloads: Path) -> None:
    payload = load(reference_payloads, "hubspot_contact.propertyChange.json")
    first, second = run("hubspot", payload, "hubspot").events
    assert (first.name, first.person, first.traits) == (
        "contact.propertyChange",
        {"hubspot_contact": "1246965"},
        {"lifecycle_stage": "subscriber"},
    )
    assert (second.name, second.person) == ("contact.creation", {"hubspot_contact": "1246978"})
    assert first.occurred_at == datetime(2016, 5, 2, 19, 11, 47, 945000, tzinfo=UTC)
    assert first.event_id != second.event_id
    assert not first.event_id.endswith("3816279340")


def test_reference_intercom_conversation(reference_payloads: Path) -> None:
    payload = load(reference_payloads, "intercom_conversation.user.created.json")
    [event] = run("intercom", payload, "intercom").events
    assert (event.kind, event.event_id) == ("conversation", "intercom:notif_123456-56465-546546")
    assert event.person == {"intercom_user": "540f1de7112d3d1d51001637", "email": "bill@bill.bill"}
    assert event.support is not None
    assert (event.support.ticket_id, event.support.opened) == ("123456789", True)
    assert event.occurred_at == datetime.fromtimestamp(1410335293, tz=UTC)


def test_reference_intercom_signed_example_user(reference_payloads: Path) -> None:
    payload = load(reference_payloads, "intercom_user.created_signed_example.json")
    [event] = run("intercom", payload, "intercom").events
    assert event.kind == "identify"
    assert event.person == {"intercom_user": "530370b477ad7120001d", "user_id": "25"}
    assert event.traits == {"name": "Hoban Washburne"}


def test_reference_slack_body_is_not_an_ingest_payload_but_is_kept(
    reference_payloads: Path,
) -> None:
    payload = load(reference_payloads, "slack_incoming_webhook_blocks.json")
    [event] = run("generic", payload, "slackish").events
    assert event.kind == "unknown"
    assert event.properties == {"text": "fallback"}
