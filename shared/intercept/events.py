"""The canonical event: the one shape every source becomes after Ingest.

Ingest turns each vendor payload into `CanonicalEvent` objects; Merge folds them into people,
accounts and daily activity. Fields with a known meaning are typed (billing, support, usage);
everything else stays in `properties` and `traits` as the sender gave it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EventKind = Literal[
    "track",
    "identify",
    "group",
    "page",
    "screen",
    "alias",
    "billing",
    "support",
    "crm",
    "conversation",
    "unknown",
]

# Identifiers of a person. `email` is stored lower-cased and stripped.
PersonIdKind = Literal[
    "user_id",
    "anonymous_id",
    "email",
    "zendesk_user",
    "hubspot_contact",
    "intercom_user",
    "stripe_customer",
]
PERSON_ID_KINDS: tuple[str, ...] = PersonIdKind.__args__  # type: ignore[attr-defined]

# Identifiers of an account (a B2B customer company).
AccountIdKind = Literal[
    "group_id",
    "stripe_customer",
    "zendesk_organization",
    "hubspot_company",
    "intercom_company",
    "domain",
]
ACCOUNT_ID_KINDS: tuple[str, ...] = AccountIdKind.__args__  # type: ignore[attr-defined]


class Billing(BaseModel):
    """What a billing event says about the account's subscription and payments."""

    model_config = ConfigDict(extra="forbid")

    subscription_id: str | None = None
    status: str | None = None  # active, trialing, past_due, canceled, unpaid ...
    plan: str | None = None
    mrr: float | None = Field(default=None, ge=0, description="monthly recurring revenue")
    currency: str | None = None
    seats: int | None = Field(default=None, ge=0)
    canceled: bool = False
    cancel_at: datetime | None = None
    payment_failed: bool = False
    payment_succeeded: bool = False
    attempt_count: int | None = Field(default=None, ge=0)
    amount: float | None = None


class Support(BaseModel):
    """What a support event says about a ticket or conversation."""

    model_config = ConfigDict(extra="forbid")

    ticket_id: str
    status: str | None = None  # new, open, pending, hold, solved, closed
    priority: str | None = None  # low, normal, high, urgent
    satisfaction: str | None = None  # good, bad, offered, unoffered
    opened: bool = False
    solved: bool = False
    escalated: bool = False
    channel: str | None = None


class Usage(BaseModel):
    """What a product event says about usage (from track / page / screen calls)."""

    model_config = ConfigDict(extra="forbid")

    module: str | None = None
    feature: str | None = None
    login: bool = False
    session_seconds: float | None = Field(default=None, ge=0)
    onboarding_step: str | None = None
    units: float | None = Field(default=None, ge=0, description="metered usage, e.g. API calls")


class CanonicalEvent(BaseModel):
    """One fact from one source, after verification and normalisation.

    `event_id` is stable across redeliveries: the vendor's own id where it is unique, else a
    hash of the source and the raw item (see `derive_event_id`). Everything downstream
    dedupes on it, which is what makes replays harmless.
    """

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=256)
    source: str = Field(min_length=1, max_length=64)
    kind: EventKind
    name: str = Field(default="", max_length=256)
    occurred_at: datetime
    received_at: datetime
    person: dict[str, str] = Field(default_factory=dict)
    account: dict[str, str] = Field(default_factory=dict)
    traits: dict[str, Any] = Field(default_factory=dict)
    account_traits: dict[str, Any] = Field(default_factory=dict)
    properties: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    billing: Billing | None = None
    support: Support | None = None
    usage: Usage | None = None
    archive_key: str = ""

    @field_validator("occurred_at", "received_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @field_validator("person")
    @classmethod
    def _person_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_kinds(value, PERSON_ID_KINDS, "person")

    @field_validator("account")
    @classmethod
    def _account_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_kinds(value, ACCOUNT_ID_KINDS, "account")


def _check_kinds(value: dict[str, str], allowed: tuple[str, ...], what: str) -> dict[str, str]:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} identifier kind {unknown}; expected one of {allowed}")
    return {kind: str(v) for kind, v in value.items() if v not in (None, "")}


def derive_event_id(source: str, raw_item: bytes) -> str:
    """A stable id for items whose sender gives none that is unique."""
    digest = hashlib.sha256(source.encode() + b"\x00" + raw_item).hexdigest()
    return f"{source}:{digest[:40]}"


def utcnow() -> datetime:
    return datetime.now(UTC)
