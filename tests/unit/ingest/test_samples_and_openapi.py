"""The sample events in events/ verify with their documented test secrets at their time,
and the OpenAPI document is valid and generated from the route models."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ingest_support import Clock, MemoryArchive, MemoryQueue

from intercept.ingest.service import Dependencies, handle
from intercept.secrets import secrets_from_env

# Documented in docs/ingest.md: the secrets the samples were signed with, and their time.
SAMPLE_ENV = {
    "INTERCEPT_WRITE_KEYS": "wk_sample_web=web",
    "INTERCEPT_WEBHOOK_SECRET_STRIPE": "whsec_intercept_sample",
    "INTERCEPT_WEBHOOK_SECRET_ZENDESK": "zendesk_sample_secret",
    "INTERCEPT_WEBHOOK_SECRET_HUBSPOT": "hubspot-sample-secret",
    "INTERCEPT_WEBHOOK_SECRET_INTERCOM": "intercom_sample_secret",
    "INTERCEPT_WEBHOOK_SECRET_GENERIC_GITHUB": "It's a Secret to Everybody",
}
SIGNED_AT = datetime(2026, 1, 1, tzinfo=UTC)
SAMPLES = {
    "ingest_segment_batch.json": 5,
    "ingest_segment_track.json": 1,
    "ingest_stripe_subscription_updated.json": 1,
    "ingest_stripe_invoice_payment_failed.json": 1,
    "ingest_zendesk_ticket_solved.json": 1,
    "ingest_hubspot_company_changes.json": 3,
    "ingest_intercom_conversation_rating.json": 1,
    "ingest_generic_github.json": 1,
}
TIMED = {
    "ingest_stripe_subscription_updated.json",
    "ingest_stripe_invoice_payment_failed.json",
    "ingest_zendesk_ticket_solved.json",
    "ingest_hubspot_company_changes.json",
}


def sample_deps(now: datetime) -> tuple[Dependencies, MemoryQueue]:
    queue = MemoryQueue()
    secrets = secrets_from_env(SAMPLE_ENV)
    return Dependencies(MemoryArchive(), queue, lambda: secrets, Clock(now)), queue


@pytest.mark.parametrize(("name", "events"), sorted(SAMPLES.items()))
def test_sample_event_is_accepted_with_documented_secret(
    sample_event: Callable[[str], Any], name: str, events: int
) -> None:
    deps, queue = sample_deps(SIGNED_AT + timedelta(seconds=30))
    response = handle(sample_event(name), deps)
    assert response["statusCode"] == 200, response["body"]
    assert len(queue.events) == events


@pytest.mark.parametrize("name", sorted(TIMED))
def test_timed_sample_is_refused_once_outside_the_window(
    sample_event: Callable[[str], Any], name: str
) -> None:
    deps, queue = sample_deps(SIGNED_AT + timedelta(seconds=301))
    assert handle(sample_event(name), deps)["statusCode"] == 401
    assert queue.sent == []


def test_sample_meanings(sample_event: Callable[[str], Any]) -> None:
    deps, queue = sample_deps(SIGNED_AT)
    for name in SAMPLES:
        handle(sample_event(name), deps)
    by_name = {event.name: event for event in queue.events}
    subscription = by_name["customer.subscription.updated"]
    assert subscription.billing is not None
    assert (subscription.billing.mrr, subscription.billing.seats) == (588.0, 12)
    assert subscription.properties["previous_mrr"] == 735.0
    assert subscription.account == {
        "stripe_customer": "cus_SampleNorthwind",
        "group_id": "acct-northwind",
    }
    solved = by_name["ticket.status_changed"]
    assert solved.support is not None and solved.support.solved
    rating = by_name["conversation.rating.added"]
    assert rating.support is not None and rating.support.satisfaction == "bad"
    assert by_name["Session Ended"].usage is not None


def test_openapi_document_is_valid_and_lists_every_route(
    sample_event: Callable[[str], Any],
) -> None:
    from openapi_spec_validator import validate

    response = handle(sample_event("ingest_openapi.json"))
    document = json.loads(response["body"])
    validate(document)
    expected = {
        f"/v1/{call}" for call in ("identify", "track", "page", "screen", "group", "alias", "batch")
    }
    expected |= {
        "/webhooks/stripe",
        "/webhooks/zendesk",
        "/webhooks/hubspot",
        "/webhooks/intercom",
        "/webhooks/generic/{source}",
        "/openapi.json",
    }
    assert set(document["paths"]) == expected
    track = document["components"]["schemas"]["TrackCall"]
    assert "event" in track["required"] and track["properties"]["event"]["maxLength"] == 256
    stripe = document["paths"]["/webhooks/stripe"]["post"]
    assert [p["name"] for p in stripe["parameters"]] == ["Stripe-Signature"]
    assert {"200", "400", "401", "413", "415", "503"} <= set(stripe["responses"])
