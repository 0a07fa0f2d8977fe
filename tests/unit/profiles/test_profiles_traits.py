from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from intercept.events import Billing, CanonicalEvent
from intercept.profiles.rules import ProfileRules
from intercept.profiles.traits import (
    Provenance,
    TraitSet,
    account_offers,
    coerce_account_trait,
    link_identifiers,
    person_offers,
)

RULES = ProfileRules()


def test_newer_value_wins_at_equal_priority() -> None:
    traits = TraitSet()
    assert traits.offer("title", "analyst", Provenance(0, "2024-05-01", "e1"))
    assert traits.offer("title", "manager", Provenance(0, "2024-05-02", "e2"))
    assert traits.values["title"] == "manager"


def test_older_value_never_overwrites_newer() -> None:
    traits = TraitSet()
    traits.offer("title", "manager", Provenance(0, "2024-05-02", "e2"))
    assert not traits.offer("title", "analyst", Provenance(0, "2024-05-01", "e1"))
    assert traits.values["title"] == "manager"


def test_source_priority_beats_recency() -> None:
    traits = TraitSet()
    traits.offer("plan", "enterprise", Provenance(30, "2024-05-01", "stripe-1", "stripe"))
    assert not traits.offer("plan", "starter", Provenance(0, "2024-06-01", "web-9", "web"))
    assert traits.values["plan"] == "enterprise"


def test_ties_break_on_event_id_so_order_does_not_matter() -> None:
    first, second = TraitSet(), TraitSet()
    a, b = Provenance(0, "2024-05-01", "e-a"), Provenance(0, "2024-05-01", "e-b")
    first.offer("x", 1, a)
    first.offer("x", 2, b)
    second.offer("x", 2, b)
    second.offer("x", 1, a)
    assert first.values == second.values == {"x": 2}


def test_absorb_is_a_join() -> None:
    left, right = TraitSet(), TraitSet()
    left.offer("a", 1, Provenance(0, "2024-05-01", "e1"))
    right.offer("a", 2, Provenance(0, "2024-05-03", "e3"))
    right.offer("b", 3, Provenance(0, "2024-05-02", "e2"))
    joined = left.copy()
    joined.absorb(right)
    joined.absorb(right)
    other = right.copy()
    other.absorb(left)
    assert joined.values == other.values == {"a": 2, "b": 3}


def test_person_offers_ignore_none(event: Callable[..., CanonicalEvent]) -> None:
    offers = person_offers(event(traits={"name": "Ana", "phone": None}), RULES)
    assert offers.values == {"name": "Ana"}


def test_billing_sets_plan_mrr_seats_status(event: Callable[..., CanonicalEvent]) -> None:
    billing = Billing(plan="growth", mrr=299.0, seats=12, status="Active", currency="USD")
    offers = account_offers(event(source="stripe", kind="billing", billing=billing), RULES)
    assert offers.values == {
        "plan": "growth",
        "mrr": 299.0,
        "seats": 12,
        "status": "active",
        "currency": "usd",
    }
    assert offers.meta["plan"].priority == 30


def test_cancellation_sets_status_and_canceled_at(event: Callable[..., CanonicalEvent]) -> None:
    ended = datetime(2024, 6, 30, tzinfo=UTC)
    billing = Billing(canceled=True, cancel_at=ended, status="active")
    offers = account_offers(event(source="stripe", kind="billing", billing=billing), RULES)
    assert offers.values["status"] == "canceled"
    assert offers.values["canceled_at"].startswith("2024-06-30T00:00:00")


def test_account_traits_aliases_coercion_and_links(event: Callable[..., CanonicalEvent]) -> None:
    e = event(
        kind="group",
        account_traits={
            "name": " Acme ",
            "website": "https://www.acme.io",
            "seats": "25",
            "mrr": "oops",
            "renewal_date": 1735603200000,
            "stripe_customer_id": "cus_9",
            "industry": "logistics",
        },
    )
    offers = account_offers(e, RULES)
    assert offers.values == {
        "name": "Acme",
        "domain": "acme.io",
        "seats": 25,
        "renewal_date": "2024-12-31",
        "industry": "logistics",
    }
    assert link_identifiers(e) == {"stripe_customer": "cus_9", "domain": "https://www.acme.io"}


def test_coerce_account_trait_drops_unreadable_values() -> None:
    assert coerce_account_trait("seats", "many") is None
    assert coerce_account_trait("renewal_date", "next year") is None
    assert coerce_account_trait("arr", float("nan")) is None
    assert coerce_account_trait("mystery", {"a": 1}) == {"a": 1}


def test_invoice_status_is_not_an_account_status(event: Callable[..., CanonicalEvent]) -> None:
    billing = Billing(status="paid", payment_succeeded=True)
    offers = account_offers(event(source="stripe", kind="billing", billing=billing), RULES)
    assert "status" not in offers.values
