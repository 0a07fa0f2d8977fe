"""Folding a batch of events into people, accounts and daily activity, exactly once in effect.

How a batch is folded:

1. Skip events whose id is already marked in the idempotency table (one batched read).
2. Read every identifier and profile the batch points to (a few batched reads), and plan the
   events in ``(occurred_at, event_id)`` order: resolve, merge, attach (`identity.Graph`).
3. Pack the events into chunks of at most 100 distinct items and write each chunk in one
   transaction: the events' marks, the profiles they change (guarded by version), the new
   identifier and membership items, and one ``ADD`` per account-day for the whole chunk.

Because an event's mark commits in the same transaction as its counters, a crash between
"folded" and "marked" cannot happen, and a redelivered event is skipped by its mark. Marks
expire after ``dedupe_days`` (the idempotency table's TTL). Profiles are joins (see
`state`), so they may safely be written ahead of a chunk that later fails. If anything
changed underneath — another worker wrote a profile, merged it, or folded the same event —
the transaction is refused and the remaining events are planned again from fresh reads.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from intercept.errors import DependencyFailure
from intercept.events import CanonicalEvent
from intercept.observability import logger
from intercept.profiles import keys
from intercept.profiles.activity import DayDelta, event_day, event_delta
from intercept.profiles.codec import iso
from intercept.profiles.identity import EventPlan, Graph, Side
from intercept.profiles.keys import Identifier
from intercept.profiles.merge import MergeConflict, Merger, day_update, member_item, profile_update
from intercept.profiles.rules import ProfileRules
from intercept.profiles.state import Profile
from intercept.profiles.store import TRANSACTION_LIMIT, ProfileStore, TransactionCancelled, Update
from intercept.profiles.traits import account_offers, person_offers

MAX_ATTEMPTS = 10
Ref = tuple[str, ...]


class FoldContended(DependencyFailure):
    """The same profiles kept changing underneath; the events stay unmarked for a retry."""


class _Retry(Exception):
    def __init__(self, already: Iterable[str] = ()) -> None:
        super().__init__("retry")
        self.already = set(already)


@dataclass
class FoldResult:
    """What a fold did: event ids folded now, ids skipped as already folded, merges written."""

    folded: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    merges: int = 0
    attempts: int = 0
    transactions: int = 0


class Folder:
    """Folds batches of canonical events through one `ProfileStore`.

    Parameters
    ----------
    store : where profiles, identifiers and marks live.
    clock : the current time (merge-log timestamps, mark expiry).
    max_attempts : how often a batch is re-planned after a concurrent change.
    sleep : how to wait between attempts (jittered exponential backoff).
    seed : seeds the backoff jitter (tests and benchmarks).
    """

    def __init__(
        self,
        store: ProfileStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.store = store
        self.rules: ProfileRules = store.rules
        self.clock = clock
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.random = random.Random(seed)
        self.merger = Merger(store, clock)
        self._existing: set[tuple[str, str]] = set()

    def fold(self, events: Sequence[CanonicalEvent]) -> FoldResult:
        """Fold `events` (any order, duplicates allowed); raises `FoldContended` if starved."""
        unique: dict[str, CanonicalEvent] = {}
        for event in events:
            unique.setdefault(event.event_id, event)
        result = FoldResult()
        result.duplicates = sorted(self.store.folded(unique, self.clock().timestamp()))
        pending = sorted(
            (e for i, e in unique.items() if i not in set(result.duplicates)),
            key=lambda e: (e.occurred_at, e.event_id),
        )
        for attempt in range(1, self.max_attempts + 1):
            if not pending:
                break
            result.attempts = attempt
            try:
                self._attempt(pending, result)
                pending = []
            except _Retry as retry:
                result.duplicates.extend(sorted(retry.already))
                done = set(result.folded) | retry.already
                pending = [e for e in pending if e.event_id not in done]
                self._backoff(attempt)
        if pending:
            logger.warning("gave up folding", extra={"events": len(pending)})
            raise FoldContended(
                f"{len(pending)} events could not be folded after {self.max_attempts} attempts "
                "because their profiles kept changing; they will be redelivered"
            )
        return result

    def _backoff(self, attempt: int) -> None:
        self.sleep(min(0.01 * 2**attempt, 0.5) * self.random.uniform(0.5, 1.5))

    def _attempt(self, pending: list[CanonicalEvent], result: FoldResult) -> None:
        graph = Graph(self.store, self.rules, self.merger, self._existing)
        graph.load(pending)
        unfinished = graph.pending_merges()
        if unfinished:
            for merge_id in sorted(unfinished):
                self.merger.finish(merge_id)
            raise _Retry()
        try:
            plans = [graph.plan(event) for event in pending]
        except (MergeConflict, TransactionCancelled) as exc:
            raise _Retry() from exc
        finally:
            result.merges += graph.merges

        now = self.clock().timestamp()
        facts = BatchFacts(graph, plans)
        for chunk in pack(graph, plans):
            writer = ChunkWriter(graph, self.store, now, facts)
            operations, refs = writer.build(chunk)
            try:
                self.store.transact(operations)
            except TransactionCancelled as exc:
                refused = [
                    ref
                    for ref, reason in zip(refs, exc.reasons, strict=False)
                    if reason == "ConditionalCheckFailed"
                ]
                self._existing |= {
                    (ref[0], ref[1]) for ref in refused if ref[0] in ("person", "account")
                }
                raise _Retry(ref[1] for ref in refused if ref[0] == "mark") from exc
            writer.commit()
            result.transactions += 1
            result.folded.extend(plan.event.event_id for plan in chunk)


def refs_of(graph: Graph, plan: EventPlan) -> set[Ref]:
    """The items one event's part of a chunk writes or checks."""
    people, accounts = graph.people, graph.accounts
    refs: set[Ref] = {("mark", plan.event.event_id)}
    person = graph.canonical(people, plan.person)
    account = graph.canonical(accounts, plan.account)
    if person:
        refs.add(("person", person))
    if account:
        refs.add(("account", account))
        if not event_delta(plan.event, person).empty:
            refs.add(("day", account, event_day(plan.event)))
    for identifier, (owner, _) in plan.new_ids.items():
        refs |= {("id", *identifier), *_profile_ref(graph, people, owner)}
    refs |= {("id", *identifier) for identifier in plan.linked}
    for identifier, (owner, _) in plan.new_aids.items():
        refs |= {("aid", *identifier), *_profile_ref(graph, accounts, owner)}
    for account_id, person_id in plan.memberships:
        member_account = graph.canonical(accounts, account_id)
        member = graph.canonical(people, person_id)
        if member_account and member:
            refs |= {
                ("member", member_account, member),
                ("person", member),
                ("account", member_account),
            }
    for other in plan.people:
        refs |= _profile_ref(graph, people, other)
    return refs


def _profile_ref(graph: Graph, side: Side, profile_id: str) -> set[Ref]:
    canonical = graph.canonical(side, profile_id)
    return {(side.entity, canonical)} if canonical else set()


def pack(graph: Graph, plans: list[EventPlan]) -> list[list[EventPlan]]:
    """Chunks of plans whose items fit one transaction each, written in list order.

    Plans that change identity (attach, create, join, link) keep their plan order and go
    first: a later event may resolve through an identifier an earlier one attached, and its
    chunk must not commit before that one's, or a crash in between would leave it marked
    while the link it relied on was never written. Plans that only read stored identity
    depend on nothing in the batch; they follow, grouped by account, day and person, so an
    account-day is written about once per batch.
    """
    people, accounts = graph.people, graph.accounts
    free = sorted((n, plan) for n, plan in enumerate(plans) if plan.independent)
    free.sort(
        key=lambda pair: (
            graph.canonical(accounts, pair[1].account) or "",
            event_day(pair[1].event),
            graph.canonical(people, pair[1].person) or "",
            pair[0],
        )
    )
    ordered = [plan for plan in plans if not plan.independent] + [plan for _, plan in free]
    chunks: list[list[EventPlan]] = []
    current: list[EventPlan] = []
    current_refs: set[Ref] = set()
    for plan in ordered:
        refs = refs_of(graph, plan)
        if current and len(current_refs | refs) > TRANSACTION_LIMIT:
            chunks.append(current)
            current, current_refs = [], set()
        current.append(plan)
        current_refs |= refs
    if current:
        chunks.append(current)
    return chunks


class BatchFacts:
    """Each profile's share of the batch: the events whose traits and times it takes.

    A chunk that touches a profile writes the profile with the whole batch's facts at once
    (a join, so writing it ahead of later chunks' marks is safe); later chunks then only
    check its version instead of writing it again.
    """

    def __init__(self, graph: Graph, plans: list[EventPlan]) -> None:
        self.events: dict[tuple[str, str], list[CanonicalEvent]] = defaultdict(list)
        for plan in plans:
            person = graph.canonical(graph.people, plan.person)
            account = graph.canonical(graph.accounts, plan.account)
            if person:
                self.events[("person", person)].append(plan.event)
            if account:
                self.events[("account", account)].append(plan.event)

    def apply(self, profile: Profile, rules: ProfileRules) -> None:
        for event in self.events.get((profile.entity, profile.id), []):
            profile.see(iso(event.occurred_at))
            offers = person_offers if profile.entity == "person" else account_offers
            profile.traits.absorb(offers(event, rules))


class ChunkWriter:
    """Builds one chunk's transaction and, once it committed, updates the graph to match."""

    def __init__(self, graph: Graph, store: ProfileStore, now: float, facts: BatchFacts) -> None:
        self.graph = graph
        self.store = store
        self.now = now
        self.facts = facts
        self.states: dict[tuple[str, str], Profile] = {}
        self.new_identifiers: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.new_accounts: dict[str, set[str]] = defaultdict(set)
        self.identifier_items: dict[Identifier, tuple[str, str | None]] = {}
        self.account_identifier_items: dict[Identifier, tuple[str, str | None]] = {}
        self.links: dict[Identifier, set[str]] = defaultdict(set)
        self.members: set[tuple[str, str]] = set()
        self.days: dict[tuple[str, str], DayDelta] = defaultdict(DayDelta)
        self.marks: list[str] = []

    def build(self, chunk: list[EventPlan]) -> tuple[list[dict[str, Any]], list[Ref]]:
        for plan in chunk:
            self._gather(plan)
        operations: list[dict[str, Any]] = []
        refs: list[Ref] = []
        for (entity, profile_id), state in sorted(self.states.items()):
            operations.append(self._profile_operation(state))
            refs.append((entity, profile_id))
        operations.extend(self._identifier_operations(refs))
        for account_id, person_id in sorted(self.members):
            operations.append(self.store.put(member_item(account_id, person_id)))
            refs.append(("member", account_id, person_id))
        for (account_id, day), delta in sorted(self.days.items()):
            update = day_update(delta, account_id, day)
            operations.append(self.store.update(keys.day_key(account_id, day), update))
            refs.append(("day", account_id, day))
        for event_id in self.marks:
            operations.append(self.store.mark(event_id, self.now))
            refs.append(("mark", event_id))
        return operations, refs

    def _state(self, side: Side, profile_id: str | None) -> Profile | None:
        canonical = self.graph.canonical(side, profile_id)
        if canonical is None:
            return None
        key = (side.entity, canonical)
        if key not in self.states:
            state = side.profiles[canonical].clone()
            self.facts.apply(state, self.graph.rules)
            self.states[key] = state
        return self.states[key]

    def _gather(self, plan: EventPlan) -> None:
        event, graph = plan.event, self.graph
        self.marks.append(event.event_id)
        person = self._state(graph.people, plan.person)
        account = self._state(graph.accounts, plan.account)
        if account:
            delta = event_delta(event, person.id if person else None)
            if not delta.empty:
                self.days[(account.id, event_day(event))].add(delta)
        for identifier, (owner, previous) in plan.new_ids.items():
            target = self._state(graph.people, owner)
            if target:
                self.identifier_items[identifier] = (target.id, previous)
                self.new_identifiers[("person", target.id)].add(identifier.token)
        for identifier, others in plan.linked.items():
            self.links[identifier] |= others
        for identifier, (owner, previous) in plan.new_aids.items():
            target = self._state(graph.accounts, owner)
            if target:
                self.account_identifier_items[identifier] = (target.id, previous)
                self.new_identifiers[("account", target.id)].add(identifier.token)
        for other in plan.people:
            self._state(graph.people, other)
        for account_id, person_id in plan.memberships:
            member_account = self._state(graph.accounts, account_id)
            member = self._state(graph.people, person_id)
            if member_account and member:
                self.members.add((member_account.id, member.id))
                self.new_accounts[member.id].add(member_account.id)

    def _profile_operation(self, state: Profile) -> dict[str, Any]:
        added = self.new_identifiers.get((state.entity, state.id), set())
        joined = self.new_accounts.get(state.id, set()) if state.entity == "person" else set()
        if not state.stored:
            state.identifiers |= added
            state.accounts |= joined
            return self.store.put(state.to_item(), "attribute_not_exists(PK)")
        if state.digest() == state.saved and not added and not joined:
            return self.store.check(state.key, "version = :version", {":version": state.version})
        update = profile_update(state).bump()
        update.add("identifiers", set(added))
        update.add("accounts", set(joined))
        condition = f"{update.name('version')} = {update.value(state.version)}"
        return self.store.update(state.key, update, condition)

    def _identifier_operations(self, refs: list[Ref]) -> list[dict[str, Any]]:
        operations: list[dict[str, Any]] = []
        for identifier, (owner, previous) in sorted(self.identifier_items.items()):
            item = {
                **_plain_key(keys.identifier_key(identifier)),
                "kind": identifier.kind,
                "value": identifier.value,
                "person_id": owner,
                "linked_people": self.links.pop(identifier, set()),
            }
            domain = (
                self.graph.rules.company_domain(identifier.value)
                if identifier.kind == "email"
                else None
            )
            if domain:
                item["GSI2PK"] = f"EMAILDOMAIN#{domain}"
                item["GSI2SK"] = identifier.value
            operations.append(self._claim(item, "person_id", previous))
            refs.append(("id", *identifier))
        for identifier, others in sorted(self.links.items()):
            update = Update().add("linked_people", set(others))
            item_key = keys.identifier_key(identifier)
            operations.append(self.store.update(item_key, update, "attribute_exists(PK)"))
            refs.append(("id", *identifier))
        for identifier, (owner, previous) in sorted(self.account_identifier_items.items()):
            item = {
                **_plain_key(keys.account_identifier_key(identifier)),
                "kind": identifier.kind,
                "value": identifier.value,
                "account_id": owner,
            }
            operations.append(self._claim(item, "account_id", previous))
            refs.append(("aid", *identifier))
        return operations

    def _claim(
        self, item: dict[str, Any], owner_field: str, previous: str | None
    ) -> dict[str, Any]:
        """Put an identifier item unless someone else claimed it since it was read."""
        if previous is None:
            return self.store.put(item, "attribute_not_exists(PK)")
        operation = self.store.put(item, f"attribute_not_exists(PK) OR {owner_field} = :previous")
        operation["Put"]["ExpressionAttributeValues"] = {":previous": {"S": previous}}
        return operation

    def commit(self) -> None:
        """The chunk is written: the graph's stored state now includes it."""
        for (entity, profile_id), state in self.states.items():
            side = self.graph.people if entity == "person" else self.graph.accounts
            stored = side.profiles[profile_id]
            changed = state.digest() != stored.saved or not stored.stored
            added = self.new_identifiers.get((entity, profile_id), set())
            joined = self.new_accounts.get(profile_id, set()) if entity == "person" else set()
            if changed or added or joined:
                state.identifiers |= added
                state.accounts |= joined
                state.version = stored.version + 1
                state.mark_saved()
                side.profiles[profile_id] = state
                side.planned.get(profile_id, set()).difference_update(added)
        for identifier in self.identifier_items:
            self.graph.people.records[identifier].stored = True
        for identifier in self.account_identifier_items:
            self.graph.accounts.records[identifier].stored = True


def _plain_key(item_key: keys.Key) -> dict[str, str]:
    return {name: value["S"] for name, value in item_key.items()}
