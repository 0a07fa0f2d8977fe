"""Reading one person or one account the way the API and the CLI show them.

A person is named by any identifier as ``kind:value`` (``email:ana@acme.io``,
``user_id:u_1``) or by ``person_id:p_...``. An account is named by its account id or by any
account identifier (``group_id:acme``, ``stripe_customer:cus_9``). Merged-away ids lead to
the profile they were merged into.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from intercept.errors import BadRequest, NotFound
from intercept.events import ACCOUNT_ID_KINDS, PERSON_ID_KINDS
from intercept.profiles.codec import to_plain
from intercept.profiles.keys import Identifier
from intercept.profiles.state import Profile
from intercept.profiles.store import ProfileStore, account_record

PERSON_LOOKUP_KINDS = (*PERSON_ID_KINDS, "person_id")
ACCOUNT_LOOKUP_KINDS = (*ACCOUNT_ID_KINDS, "account_id")
ACTIVITY_DAYS = 30


def parse_identifier(token: str, accepted: tuple[str, ...]) -> Identifier:
    try:
        identifier = Identifier.parse(token.strip())
    except ValueError as exc:
        raise BadRequest(
            "identifier must look like kind:value, e.g. email:ana@acme.io",
            accepted=list(accepted),
        ) from exc
    if identifier.kind not in accepted:
        raise BadRequest(f"unknown identifier kind {identifier.kind!r}", accepted=list(accepted))
    return identifier


def find_person(store: ProfileStore, token: str) -> Profile:
    """The live person an identifier names, or `NotFound`."""
    identifier = parse_identifier(token, PERSON_LOOKUP_KINDS)
    if identifier.kind == "person_id":
        person = store.resolve("person", identifier.value)
    else:
        value = store.rules.normalize_person_identifier(identifier.kind, identifier.value)
        person = store.find("person", Identifier(identifier.kind, value)) if value else None
    if person is None:
        raise NotFound(f"no person has that {identifier.kind} identifier")
    return person


def find_account(store: ProfileStore, name: str) -> Profile:
    """The live account an id or ``kind:value`` identifier names, or `NotFound`."""
    account = store.resolve("account", name)
    if account is None and ":" not in name:
        account = store.find("account", Identifier("group_id", name))
    if account is None and ":" in name:
        identifier = Identifier.parse(name)
        if identifier.kind == "account_id":
            account = store.resolve("account", identifier.value)
        elif identifier.kind in ACCOUNT_ID_KINDS:
            value = store.rules.normalize_account_identifier(identifier.kind, identifier.value)
            account = store.find("account", Identifier(identifier.kind, value)) if value else None
    if account is None:
        raise NotFound(
            "no account has that id; use an account id or kind:value with kind one of "
            f"{', '.join(ACCOUNT_LOOKUP_KINDS)}"
        )
    return account


def trait_sources(profile: Profile) -> dict[str, dict[str, Any]]:
    return {
        name: {"source": p.source, "occurred_at": p.at, "event_id": p.event_id}
        for name, p in sorted(profile.traits.meta.items())
    }


def person_view(person: Profile) -> dict[str, Any]:
    return {
        "person_id": person.id,
        "identifiers": sorted(person.identifiers),
        "traits": to_plain(person.traits.values),
        "trait_sources": trait_sources(person),
        "first_seen": person.first_seen,
        "last_seen": person.last_seen,
        "accounts": sorted(person.accounts),
    }


def account_view(
    store: ProfileStore, account: Profile, today: datetime | None = None
) -> dict[str, Any]:
    """The account record, its identifiers, people and the last 30 days in brief."""
    end = (today or datetime.now(UTC)).date()
    days = store.get_daily_activity(account.id, end - timedelta(days=ACTIVITY_DAYS - 1), end)
    people: set[str] = set()
    for day in days:
        people |= day.people
    return {
        "account": account_record(account).model_dump(mode="json"),
        "identifiers": sorted(account.identifiers),
        "trait_sources": trait_sources(account),
        "people": store.members(account.id),
        "activity": {
            "days": ACTIVITY_DAYS,
            "active_days": len(days),
            "events": sum(d.events for d in days),
            "logins": sum(d.logins for d in days),
            "active_people": len(people),
            "tickets_opened": sum(d.tickets_opened for d in days),
            "payment_failures": sum(d.payment_failures for d in days),
        },
    }
