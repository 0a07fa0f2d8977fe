"""Trait precedence: per trait, the source's priority first, then recency.

Every stored trait carries its provenance — the source, the event's `occurred_at` and the
event id. A new value replaces the stored one only when its provenance ranks higher:
``(priority, occurred_at, event_id)``, compared in that order. The event id breaks ties, so
the outcome is a pure function of the set of events seen: an older event never overwrites a
newer value, and replaying or reordering events changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from intercept.events import CanonicalEvent
from intercept.profiles.codec import iso
from intercept.profiles.rules import ProfileRules, normalize_domain

# Account traits with a typed home on `records.Account`, and the type each is coerced to.
ACCOUNT_FIELDS: dict[str, str] = {
    "name": "str",
    "plan": "str",
    "mrr": "float",
    "arr": "float",
    "seats": "int",
    "usage_cap": "float",
    "owner": "str",
    "account_executive": "str",
    "renewal_date": "date",
    "lifecycle_stage": "str",
    "status": "str",
    "domain": "domain",
    "canceled_at": "datetime",
    "currency": "str",
}

# Group-trait keys that name another identifier of the same account.
LINK_TRAITS: dict[str, str] = {
    "stripe_customer_id": "stripe_customer",
    "hubspot_company_id": "hubspot_company",
    "zendesk_organization_id": "zendesk_organization",
    "intercom_company_id": "intercom_company",
}
TRAIT_ALIASES = {"website": "domain", "annualrevenue": "arr", "hubspot_owner_id": "owner"}
# Subscription states an account can be in; invoice states (paid, open, void ...) are not.
ACCOUNT_STATUSES = frozenset(
    {
        "active",
        "trialing",
        "past_due",
        "canceled",
        "unpaid",
        "incomplete",
        "incomplete_expired",
        "paused",
    }
)


@dataclass(frozen=True, order=True)
class Provenance:
    """Where a trait value came from; instances order by precedence."""

    priority: int
    at: str
    event_id: str
    source: str = ""

    def to_item(self) -> dict[str, Any]:
        return {"p": self.priority, "t": self.at, "e": self.event_id, "s": self.source}

    @classmethod
    def from_item(cls, raw: Mapping[str, Any]) -> Provenance:
        return cls(int(raw["p"]), str(raw["t"]), str(raw["e"]), str(raw.get("s", "")))


@dataclass
class TraitSet:
    """Trait values with their provenance; `offer` keeps the highest-ranked value per trait."""

    values: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Provenance] = field(default_factory=dict)

    def offer(self, name: str, value: Any, provenance: Provenance) -> bool:
        """Take `value` if it outranks the stored one; returns whether anything changed."""
        current = self.meta.get(name)
        if current is not None and current >= provenance:
            return False
        self.values[name] = value
        self.meta[name] = provenance
        return True

    def absorb(self, other: TraitSet) -> bool:
        changed = False
        for name, provenance in other.meta.items():
            changed |= self.offer(name, other.values[name], provenance)
        return changed

    def copy(self) -> TraitSet:
        return TraitSet(dict(self.values), dict(self.meta))

    def meta_items(self) -> dict[str, dict[str, Any]]:
        return {name: prov.to_item() for name, prov in self.meta.items()}

    @classmethod
    def from_items(cls, values: Mapping[str, Any], meta: Mapping[str, Any]) -> TraitSet:
        parsed = {name: Provenance.from_item(raw) for name, raw in meta.items()}
        return cls({k: v for k, v in values.items() if k in parsed}, parsed)


def provenance(event: CanonicalEvent, trait: str, rules: ProfileRules) -> Provenance:
    return Provenance(
        rules.priority(trait, event.source), iso(event.occurred_at), event.event_id, event.source
    )


def person_offers(event: CanonicalEvent, rules: ProfileRules) -> TraitSet:
    """The person traits an event asserts (None values assert nothing)."""
    offers = TraitSet()
    for name, value in event.traits.items():
        if value is not None and not _non_finite(value):
            offers.offer(str(name), value, provenance(event, str(name), rules))
    return offers


def account_offers(event: CanonicalEvent, rules: ProfileRules) -> TraitSet:
    """The account traits an event asserts: group / CRM traits plus what billing says."""
    offers = TraitSet()
    for raw_name, value in event.account_traits.items():
        name = TRAIT_ALIASES.get(str(raw_name).lower(), str(raw_name))
        if name in LINK_TRAITS or value is None or _non_finite(value):
            continue
        coerced = coerce_account_trait(name, value)
        if coerced is not None:
            offers.offer(name, coerced, provenance(event, name, rules))
    for name, value in billing_facts(event).items():
        offers.offer(name, value, provenance(event, name, rules))
    return offers


def billing_facts(event: CanonicalEvent) -> dict[str, Any]:
    """Plan, MRR, seats and status from a billing event; a cancellation sets `canceled_at`."""
    billing = event.billing
    if billing is None:
        return {}
    facts: dict[str, Any] = {}
    if billing.plan:
        facts["plan"] = billing.plan
    if billing.mrr is not None:
        facts["mrr"] = float(billing.mrr)
    if billing.seats is not None:
        facts["seats"] = int(billing.seats)
    if billing.currency:
        facts["currency"] = billing.currency.lower()
    if billing.status and billing.status.lower() in ACCOUNT_STATUSES:
        facts["status"] = billing.status.lower()
    if billing.canceled or facts.get("status") == "canceled":
        facts["status"] = "canceled"
        facts["canceled_at"] = iso(billing.cancel_at or event.occurred_at)
    return facts


def coerce_account_trait(name: str, value: Any) -> Any:
    """The value in the type `records.Account` expects, or None when it cannot be read."""
    kind = ACCOUNT_FIELDS.get(name)
    if kind is None:
        return value
    try:
        if kind == "float":
            number = float(value)
            return number if math.isfinite(number) else None
        if kind == "int":
            return int(float(value))
        if kind == "date":
            return _as_date(value).isoformat()
        if kind == "datetime":
            return iso(_as_datetime(value))
        if kind == "domain":
            return normalize_domain(str(value))
    except (TypeError, ValueError, OverflowError):
        return None
    text = str(value).strip()
    return text or None


def link_identifiers(event: CanonicalEvent) -> dict[str, str]:
    """Account identifiers named by group traits (``stripe_customer_id`` and friends)."""
    found: dict[str, str] = {}
    for trait, kind in LINK_TRAITS.items():
        value = event.account_traits.get(trait)
        if value not in (None, ""):
            found[kind] = str(value)
    for trait in ("domain", "website"):
        value = event.account_traits.get(trait)
        if isinstance(value, str) and value.strip():
            found.setdefault("domain", value)
    return found


_EPOCH_DIGITS = re.compile(r"^\d{9,13}$")


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if isinstance(value, int | float) or _EPOCH_DIGITS.match(text):
        seconds = float(text)
        if seconds > 1e11:  # milliseconds, as HubSpot sends them
            seconds /= 1000
        return datetime.fromtimestamp(seconds, UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-":
        return date.fromisoformat(text)
    return _as_datetime(value).date()


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)
