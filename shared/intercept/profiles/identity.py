"""The identity graph: which person and which account each event belongs to.

`Graph` mirrors the stored profiles and identifier items that a batch of events touches and
plans each event in turn: it finds the people (and accounts) the event's identifiers point
to, merges them when the event links several, and attaches identifiers nobody owns yet. A
merge of two stored profiles is written at once (see `merge.Merger`); everything else is a
plan that the fold writes later, together with the marks of the events that caused it.

Rules, in order:

1. Normalise; drop blocked values, shared mailboxes and malformed e-mails (`rules`).
2. An identifier linked to more than ``max_people_per_identifier`` people already is not
   used to choose or merge anyone (high-cardinality guard).
3. The people the remaining identifiers point to are grouped, highest-ranked identifier
   first; one that would bring a second ``user_id`` (or a second ``group_id`` for accounts)
   into the group stays apart, and so does one split off from the group by an unmerge.
4. The group's survivor is the stored profile seen first (ties: smallest id; accounts with a
   ``group_id`` first); the others merge into it; unowned identifiers attach to it.
5. With no group, a new profile takes the unowned identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from intercept.events import CanonicalEvent
from intercept.profiles import keys
from intercept.profiles.keys import Identifier
from intercept.profiles.rules import ACCOUNT_UNIQUE_KIND, PERSON_UNIQUE_KIND, ProfileRules
from intercept.profiles.state import Entity, Profile
from intercept.profiles.store import ProfileStore
from intercept.profiles.traits import link_identifiers

PERSON_RANK: tuple[str, ...] = (
    "user_id",
    "email",
    "hubspot_contact",
    "intercom_user",
    "zendesk_user",
    "stripe_customer",
    "anonymous_id",
)
ACCOUNT_RANK: tuple[str, ...] = (
    "group_id",
    "stripe_customer",
    "hubspot_company",
    "zendesk_organization",
    "intercom_company",
    "domain",
)
# People attached to an account by one newly known company domain, per event.
# Limitation: beyond this many people, a new account domain attaches only the first ones
# (by e-mail order); the rest attach when their own e-mail is next seen.
DOMAIN_ATTACH_LIMIT = 30
_SAFE_ID = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")


class MergeWriter(Protocol):
    """Writes a merge of two stored profiles and updates both objects in place."""

    def merge(
        self, entity: Entity, survivor: Profile, loser: Profile, cause: CanonicalEvent
    ) -> str: ...


@dataclass
class Record:
    """What an identifier item says: its (raw) owner and the people it was linked to.

    `plan` is the plan that attaches the identifier when it is new in this batch.
    """

    owner: str | None = None
    linked: set[str] = field(default_factory=set)
    stored: bool = False
    plan: EventPlan | None = None


@dataclass
class EventPlan:
    """What one event changes, with ids as planned (the fold follows merges at write time)."""

    event: CanonicalEvent
    person: str | None = None
    account: str | None = None
    new_ids: dict[Identifier, tuple[str, str | None]] = field(default_factory=dict)
    new_aids: dict[Identifier, tuple[str, str | None]] = field(default_factory=dict)
    linked: dict[Identifier, set[str]] = field(default_factory=dict)
    memberships: set[tuple[str, str]] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    relies_on_batch: bool = False

    @property
    def independent(self) -> bool:
        """True when the plan only reads stored identity and changes none of it.

        Such plans may be written in any order relative to the rest of the batch.
        """
        return not (
            self.relies_on_batch
            or self.new_ids
            or self.new_aids
            or self.linked
            or self.memberships
            or self.people
        )


@dataclass(eq=False)
class Side:
    """People or accounts: their profiles and identifier records as far as loaded."""

    entity: Entity
    rank: tuple[str, ...]
    unique_kind: str
    profiles: dict[str, Profile] = field(default_factory=dict)
    records: dict[Identifier, Record] = field(default_factory=dict)
    planned: dict[str, set[str]] = field(default_factory=dict)

    def key_of(self, identifier: Identifier) -> keys.Key:
        if self.entity == "person":
            return keys.identifier_key(identifier)
        return keys.account_identifier_key(identifier)

    def sort(self, identifiers: Iterable[Identifier]) -> list[Identifier]:
        order = {kind: n for n, kind in enumerate(self.rank)}
        return sorted(set(identifiers), key=lambda i: (order.get(i.kind, 99), i.value))


class Graph:
    """The part of the identity graph one batch touches, and the plan for each event."""

    def __init__(
        self,
        store: ProfileStore,
        rules: ProfileRules,
        merger: MergeWriter,
        existing: set[tuple[str, str]] | None = None,
    ) -> None:
        self.store = store
        self.existing = existing if existing is not None else set()
        self.rules = rules
        self.merger = merger
        self.people = Side("person", PERSON_RANK, PERSON_UNIQUE_KIND)
        self.accounts = Side("account", ACCOUNT_RANK, ACCOUNT_UNIQUE_KIND)
        self.planned_members: set[tuple[str, str]] = set()
        self.planned_emails: dict[str, set[Identifier]] = {}
        self.merges = 0

    # ------------------------------------------------------------------ identifiers

    def person_identifiers(self, event: CanonicalEvent) -> list[Identifier]:
        found = []
        for kind, raw in event.person.items():
            value = self.rules.normalize_person_identifier(kind, raw)
            if value is not None:
                found.append(Identifier(kind, value))
        return self.people.sort(found)

    def account_identifiers(self, event: CanonicalEvent) -> list[Identifier]:
        named = dict(link_identifiers(event))
        named.update(event.account)
        found = []
        for kind, raw in named.items():
            value = self.rules.normalize_account_identifier(kind, raw)
            if value is not None:
                found.append(Identifier(kind, value))
        return self.accounts.sort(found)

    def company_domains(self, identifiers: Iterable[Identifier]) -> list[Identifier]:
        domains = (self.rules.company_domain(i.value) for i in identifiers if i.kind == "email")
        return [Identifier("domain", d) for d in domains if d]

    # ------------------------------------------------------------------ loading

    def load(self, events: Iterable[CanonicalEvent]) -> None:
        """Read every identifier and profile the events point to, in a few batched reads."""
        person_ids: set[Identifier] = set()
        account_ids: set[Identifier] = set()
        for event in events:
            mine = self.person_identifiers(event)
            person_ids.update(mine)
            account_ids.update(self.account_identifiers(event))
            account_ids.update(self.company_domains(mine))
        self.fetch_records({self.people: person_ids, self.accounts: account_ids})
        self.fetch_profiles(
            {
                side: {r.owner for r in side.records.values() if r.owner}
                for side in (self.people, self.accounts)
            }
        )

    def fetch_records(self, wanted: dict[Side, Iterable[Identifier]]) -> None:
        """Read identifier items of both sides in one batched read."""
        missing = {side: [i for i in ids if i not in side.records] for side, ids in wanted.items()}
        item_keys = [side.key_of(i) for side, ids in missing.items() for i in ids]
        if not item_keys:
            return
        items = self.store.batch_get(item_keys)
        for side, identifiers in missing.items():
            owner_field = f"{side.entity}_id"
            for identifier in identifiers:
                key = side.key_of(identifier)
                item = items.get((key["PK"]["S"], key["SK"]["S"]))
                side.records[identifier] = (
                    Record()
                    if item is None
                    else Record(str(item[owner_field]), set(item.get("linked_people", set())), True)
                )

    def fetch_profiles(self, wanted: dict[Side, set[str]]) -> None:
        """Load profiles of both sides and, transitively, the ones merged profiles point to."""
        for _ in range(8):
            wanted = {
                side: {i for i in ids if i not in side.profiles} for side, ids in wanted.items()
            }
            if not any(wanted.values()):
                return
            loaded = self.store.load_profiles({side.entity: ids for side, ids in wanted.items()})
            for side, ids in wanted.items():
                side.profiles.update(loaded[side.entity])
                targets = {side.profiles[i].merged_into for i in ids if i in side.profiles}
                wanted[side] = {t for t in targets if t}

    def pending_merges(self) -> set[str]:
        """Merge ids whose follow-up steps a crash left unfinished on a loaded survivor."""
        found: set[str] = set()
        for side in (self.people, self.accounts):
            for profile in side.profiles.values():
                found |= profile.absorbing
        return found

    def canonical(self, side: Side, profile_id: str | None) -> str | None:
        """The live profile an id stands for now (following merges), or None if it is gone."""
        for _ in range(16):
            if profile_id is None:
                return None
            if profile_id not in side.profiles:
                self.fetch_profiles({side: {profile_id}})
            profile = side.profiles.get(profile_id)
            if profile is None:
                return None
            if profile.merged_into is None:
                return profile_id
            profile_id = profile.merged_into
        return None

    def owner(self, side: Side, identifier: Identifier) -> str | None:
        if identifier not in side.records:
            self.fetch_records({side: [identifier]})
        return self.canonical(side, side.records[identifier].owner)

    def unique(self, side: Side, profile: Profile) -> str | None:
        """The profile's ``user_id`` / ``group_id``, stored or planned in this batch."""
        stored = profile.unique(side.unique_kind)
        if stored:
            return stored
        prefix = f"{side.unique_kind}:"
        planned = sorted(t for t in side.planned.get(profile.id, set()) if t.startswith(prefix))
        return planned[0][len(prefix) :] if planned else None

    # ------------------------------------------------------------------ planning

    def plan(self, event: CanonicalEvent) -> EventPlan:
        """Resolve one event's person and account, merging and attaching as needed."""
        plan = EventPlan(event)
        person_ids = self.person_identifiers(event)
        plan.person = self.resolve(self.people, person_ids, event, plan)
        plan.account = self.resolve(self.accounts, self.account_identifiers(event), event, plan)
        if plan.person and plan.account:
            self.attach_member(plan, plan.account, plan.person)
        self.attach_by_domain(plan)
        return plan

    def resolve(
        self, side: Side, identifiers: list[Identifier], event: CanonicalEvent, plan: EventPlan
    ) -> str | None:
        if not identifiers:
            return None
        owners = {i: self.owner(side, i) for i in identifiers}
        if any(
            not side.records[i].stored or not side.profiles[o].stored
            for i, o in owners.items()
            if o
        ):
            plan.relies_on_batch = True
        group = self.group(side, identifiers, owners)
        unowned = [i for i in identifiers if owners[i] is None]
        if group:
            target = self.survivor(side, group)
            for profile in group:
                if profile is not target:
                    plan.relies_on_batch = True
                    self.join(side, target, profile, event)
            target = self.rekey(side, target, unowned, event)
        elif unowned:
            target = self.create(side, event, unowned[0])
        else:
            return owners[identifiers[0]]

        for identifier in unowned:
            self.attach(side, target, identifier, plan)
        involved = {o for o in owners.values() if o} | {target.id}
        if len(involved) > 1:
            self.note_links(side, owners, involved, plan)
        return target.id

    def group(
        self, side: Side, identifiers: list[Identifier], owners: dict[Identifier, str | None]
    ) -> list[Profile]:
        """The owners this event may join, best-ranked identifier first (rules 2-3)."""
        limit = self.rules.max_people_per_identifier
        candidates: list[str] = []
        for identifier in identifiers:
            owner = owners[identifier]
            shared = len(side.records[identifier].linked) > limit
            if owner and owner not in candidates and not shared:
                candidates.append(owner)
        # Limitation: when events contest an identifier between two user ids (or group ids),
        # the first one folded keeps it, so such contested streams depend on arrival order.
        event_unique = next((i.value for i in identifiers if i.kind == side.unique_kind), None)
        group: list[Profile] = []
        group_unique = event_unique
        for candidate in candidates:
            profile = side.profiles[candidate]
            unique = self.unique(side, profile)
            if unique and group_unique and unique != group_unique:
                continue
            if any(g.id in profile.no_merge or profile.id in g.no_merge for g in group):
                continue
            group.append(profile)
            group_unique = group_unique or unique
        return group

    def survivor(self, side: Side, group: list[Profile]) -> Profile:
        pool = [p for p in group if p.stored] or group
        if side.entity == "account":
            return min(
                pool, key=lambda p: (p.unique("group_id") is None, p.first_seen or "~", p.id)
            )
        return min(pool, key=lambda p: (p.first_seen or "~", p.id))

    def join(self, side: Side, survivor: Profile, loser: Profile, event: CanonicalEvent) -> None:
        """Merge `loser` into `survivor`: written now if both are stored, else planned."""
        if loser.stored:
            self.merger.merge(side.entity, survivor, loser, event)
            self.merges += 1
            if side.entity == "account":
                for person in self.people.profiles.values():
                    if loser.id in person.accounts:
                        person.accounts = (person.accounts - {loser.id}) | {survivor.id}
        else:
            survivor.absorb(loser)
            loser.merged_into = survivor.id
        side.planned.setdefault(survivor.id, set()).update(side.planned.pop(loser.id, set()))

    def rekey(
        self, side: Side, target: Profile, unowned: list[Identifier], event: CanonicalEvent
    ) -> Profile:
        """Give a stored account its group id as account id, the first time it learns one.

        The account is stored again under ``group_id``'s value (written now, with the group id
        item) and the old one merges into it, so an account's id does not depend on whether
        billing or product events arrived first.
        """
        group = next((i for i in unowned if i.kind == ACCOUNT_UNIQUE_KIND), None)
        if side.entity != "account" or group is None or not target.stored:
            return target
        new_id = account_id_for(group)
        if self.unique(side, target) or new_id == target.id or new_id in side.profiles:
            return target
        fresh = Profile("account", new_id, identifiers={group.token})
        fresh.first_seen = target.first_seen
        self.store.create(fresh, side.key_of(group), {"kind": group.kind, "value": group.value})
        fresh.version = 1
        fresh.mark_saved()
        side.profiles[new_id] = fresh
        side.records[group] = Record(new_id, set(), True)
        unowned.remove(group)
        self.join(side, fresh, target, event)
        return fresh

    def create(self, side: Side, event: CanonicalEvent, first: Identifier) -> Profile:
        if side.entity == "person":
            new_id = f"p_{keys.short_hash('person', event.event_id, first.token)}"
        else:
            new_id = account_id_for(first)
        if (side.entity, new_id) in self.existing:
            # A crash left this profile written but the items naming it unwritten; use it.
            live = self.canonical(side, new_id)
            if live is not None:
                return side.profiles[live]
        profile = Profile(side.entity, new_id)
        side.profiles[new_id] = profile
        return profile

    def attach(self, side: Side, target: Profile, identifier: Identifier, plan: EventPlan) -> None:
        record = side.records[identifier]
        previous = record.owner if record.stored else None
        record.owner = target.id
        record.plan = plan
        side.planned.setdefault(target.id, set()).add(identifier.token)
        if side.entity == "person":
            plan.new_ids[identifier] = (target.id, previous)
            domain = (
                self.rules.company_domain(identifier.value) if identifier.kind == "email" else None
            )
            if domain:
                self.planned_emails.setdefault(domain, set()).add(identifier)
        else:
            plan.new_aids[identifier] = (target.id, previous)

    def note_links(
        self,
        side: Side,
        owners: dict[Identifier, str | None],
        involved: set[str],
        plan: EventPlan,
    ) -> None:
        """Remember which people each identifier was seen linking (high-cardinality guard)."""
        # Limitation: the high-cardinality guard counts people only; account identifiers are
        # guarded by the one-group-id-per-account limit alone.
        if side.entity != "person":
            return
        for identifier, owner in owners.items():
            record = side.records[identifier]
            others = involved - {owner} - record.linked
            if owner and others:
                record.linked |= others
                # A new identifier's links are written with the identifier item itself.
                writer = record.plan if record.plan and not record.stored else plan
                writer.linked.setdefault(identifier, set()).update(others)

    # ------------------------------------------------------------------ memberships

    def attach_member(self, plan: EventPlan, account_id: str, person_id: str) -> None:
        account = self.canonical(self.accounts, account_id)
        person = self.canonical(self.people, person_id)
        if account is None or person is None:
            return
        if account in self.people.profiles[person].accounts:
            return
        if (account, person) in self.planned_members:
            return
        self.planned_members.add((account, person))
        plan.memberships.add((account, person))
        if person != plan.person:
            plan.people.add(person)

    def attach_by_domain(self, plan: EventPlan) -> None:
        """People meet accounts through company e-mail domains, from either side."""
        if not self.rules.attach_by_email_domain:
            return
        if plan.person:
            for domain in self.company_domains(plan.new_ids):
                account = self.owner(self.accounts, domain)
                if account:
                    self.attach_member(plan, account, plan.person)
        for identifier, (account, _) in plan.new_aids.items():
            if identifier.kind == "domain":
                for person in self.people_at(identifier.value):
                    self.attach_member(plan, account, person)

    def people_at(self, domain: str) -> list[str]:
        """People with an e-mail at `domain`: stored ones (GSI2) and ones planned here."""
        owners: dict[str, str | None] = dict(self.store.emails_at(domain))
        for identifier in self.planned_emails.get(domain, set()):
            owners[identifier.value] = self.people.records[identifier].owner
        people: list[str] = []
        for email in sorted(owners)[:DOMAIN_ATTACH_LIMIT]:
            person = self.canonical(self.people, owners[email])
            if person and person not in people:
                people.append(person)
        return people


def account_id_for(identifier: Identifier) -> str:
    """A readable, stable account id: the group id itself, else ``kind:value``, else a hash."""
    if identifier.kind == "group_id" and _SAFE_ID.match(identifier.value):
        return identifier.value
    if _SAFE_ID.match(identifier.value):
        return identifier.token
    return f"hash:{keys.short_hash(identifier.token)}"


def describe(plan: EventPlan) -> dict[str, Any]:
    """A log-safe summary of a plan (ids and counts, no identifier values)."""
    return {
        "event_id": plan.event.event_id,
        "person_id": plan.person,
        "account_id": plan.account,
        "identifiers_attached": len(plan.new_ids) + len(plan.new_aids),
        "memberships": len(plan.memberships),
    }
