"""Merging two stored profiles, and undoing a merge.

A merge commits in one transaction (the *core*): the loser becomes a tombstone pointing at
the survivor, the survivor takes the loser's identifiers, traits and memberships, the
merge-log entry is written, and the loser's identifier items are repointed — all guarded by
the version each profile was read at, so a concurrent writer makes the transaction fail
instead of losing an update. From that moment every reader resolves the loser's identifiers
to the survivor (repointed, or through the tombstone).

What does not fit in one transaction follows as idempotent *steps*: repointing identifiers
beyond the first ~90, moving account memberships, replacing the loser by the survivor in
the per-day `people` sets, and — for accounts — moving daily activity onto the survivor.
The survivor lists the merge in ``absorbing`` until the steps are done; if a crash stops
them, the next fold that reads the survivor finishes them.

The merge log (``PK=MERGE#{merge_id}``, ``SK=LOG``) is append-only: an unmerge writes a
second item (``SK=UNMERGE``) beside it. Only a privacy deletion rewrites a log entry, to
strip the personal data it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from intercept.errors import Conflict, NotFound
from intercept.events import CanonicalEvent
from intercept.observability import logger
from intercept.profiles import keys
from intercept.profiles.activity import DayDelta
from intercept.profiles.codec import attr, iso
from intercept.profiles.keys import Identifier
from intercept.profiles.state import Entity, Profile
from intercept.profiles.store import (
    TRANSACTION_LIMIT,
    ProfileStore,
    TransactionCancelled,
    Update,
)
from intercept.profiles.traits import Provenance, TraitSet

CORE_REPOINTS = TRANSACTION_LIMIT - 4
TOMBSTONE_DROPS = ("identifiers", "traits", "trait_meta", "accounts", "no_merge", "absorbing")


class MergeConflict(Exception):
    """A profile changed since it was read; the caller re-reads and tries again."""


@dataclass
class UnmergeReport:
    merge_id: str
    entity: str
    restored: str
    survivor: str
    identifiers_restored: int = 0
    traits_restored: int = 0
    memberships_restored: int = 0
    days_restored: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Merger:
    """Writes merges and unmerges of stored profiles through a `ProfileStore`."""

    def __init__(
        self, store: ProfileStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
        self.clock = clock

    # ------------------------------------------------------------------ merge

    def merge(
        self, entity: Entity, survivor: Profile, loser: Profile, cause: CanonicalEvent
    ) -> str:
        """Merge `loser` into `survivor` (both stored); both objects are updated in place."""
        merge_id = "m_" + keys.short_hash("merge", entity, survivor.id, loser.id, cause.event_id)
        at = iso(self.clock())
        if entity == "person":
            live = self.live_accounts(survivor.accounts | loser.accounts)
            survivor.accounts = {live[a] for a in survivor.accounts if a in live}
            loser.accounts = {live[a] for a in loser.accounts if a in live}
        # Limitation: the log keeps both profiles' traits; profiles whose traits approach
        # DynamoDB's 400 KB item limit cannot be merged (the message ends in the DLQ).
        log = self._log_item(entity, merge_id, survivor, loser, cause, at)
        if entity == "person":
            log.update(self._person_days(survivor, loser))
        else:
            log["members"] = set(self.store.members(loser.id))
            log["survivor_members"] = set(self.store.members(survivor.id))
            log["days"] = [str(item["SK"])[4:] for item in self._all_days(loser.id)]

        merged = Profile(entity, survivor.id, survivor.version, set(survivor.identifiers))
        merged.absorb(survivor)
        merged.absorb(loser)
        repoint = sorted(loser.identifiers)
        operations = [
            self._tombstone(entity, loser, survivor.id, merge_id, at),
            self._absorb(entity, survivor, merged, loser, merge_id),
            self.store.put(log, "attribute_not_exists(PK)"),
            *(self._repoint(entity, t, loser.id, survivor.id) for t in repoint[:CORE_REPOINTS]),
        ]
        try:
            self.store.transact(operations)
        except TransactionCancelled as exc:
            raise MergeConflict(str(exc)) from exc

        survivor.absorb(loser)
        survivor.version += 1
        survivor.absorbing.add(merge_id)
        survivor.mark_saved()
        loser.merged_into = survivor.id
        loser.version += 1
        logger.info(
            "merged profiles",
            extra={"entity": entity, "merge_id": merge_id, "survivor": survivor.id},
        )
        self.finish(merge_id, log, skip_repoints=len(repoint[:CORE_REPOINTS]))
        survivor.absorbing.discard(merge_id)
        return merge_id

    def live_accounts(self, account_ids: set[str]) -> dict[str, str]:
        """The live account each id stands for now (an account merge may have moved it)."""
        live: dict[str, str] = {}
        current = {a: a for a in account_ids}
        for _ in range(8):
            if not current:
                break
            found = self.store.load("account", set(current.values()))
            following: dict[str, str] = {}
            for origin, now in current.items():
                profile = found.get(now)
                if profile is None:
                    continue
                if profile.merged_into is None:
                    live[origin] = now
                else:
                    following[origin] = profile.merged_into
            current = following
        return live

    def _log_item(
        self,
        entity: Entity,
        merge_id: str,
        survivor: Profile,
        loser: Profile,
        cause: CanonicalEvent,
        at: str,
    ) -> dict[str, Any]:
        sort = f"{at}#{merge_id}"
        return {
            **{name: value["S"] for name, value in keys.merge_key(merge_id).items()},
            "merge_id": merge_id,
            "entity": entity,
            "survivor": survivor.id,
            "loser": loser.id,
            "merged_at": at,
            "cause_event_id": cause.event_id,
            "cause_source": cause.source,
            "survivor_snapshot": survivor.snapshot(),
            "loser_snapshot": loser.snapshot(),
            "GSI1PK": f"MERGES#{survivor.id}",
            "GSI1SK": sort,
            "GSI2PK": f"MERGES#{loser.id}",
            "GSI2SK": sort,
        }

    def _person_days(self, survivor: Profile, loser: Profile) -> dict[str, Any]:
        """Which account-days list the loser, and whether the survivor was there too."""
        only: list[str] = []
        both: list[str] = []
        for account_id in sorted(loser.accounts):
            for item in self.store.days_with_person(account_id, loser):
                ref = f"{account_id}|{str(item['SK'])[4:]}"
                (both if survivor.id in item.get("people", set()) else only).append(ref)
        return {"days_loser_only": only, "days_both": both}

    def _all_days(self, account_id: str) -> list[dict[str, Any]]:
        return list(self.store.days(account_id, "0000-01-01", "9999-12-31"))

    def _tombstone(
        self, entity: Entity, loser: Profile, survivor_id: str, merge_id: str, at: str
    ) -> dict[str, Any]:
        update = Update().set("merged_into", survivor_id).set("merge_id", merge_id)
        update.set("merged_at", at).bump()
        for name in TOMBSTONE_DROPS:
            update.remove(name)
        if entity == "account":
            update.remove("GSI1PK").remove("GSI1SK")
        condition = f"{update.name('version')} = {update.value(loser.version)}"
        return self.store.update(loser.key, update, condition)

    def _absorb(
        self, entity: Entity, survivor: Profile, merged: Profile, loser: Profile, merge_id: str
    ) -> dict[str, Any]:
        update = profile_update(merged).bump()
        update.add("identifiers", set(loser.identifiers))
        update.add("no_merge", set(loser.no_merge))
        update.add("absorbing", {merge_id})
        if entity == "person":
            update.add("accounts", set(loser.accounts))
        condition = f"{update.name('version')} = {update.value(survivor.version)}"
        return self.store.update(survivor.key, update, condition)

    def _repoint(self, entity: Entity, token: str, old: str, new: str) -> dict[str, Any]:
        identifier = Identifier.parse(token)
        field_name = f"{entity}_id"
        item_key = (
            keys.identifier_key(identifier)
            if entity == "person"
            else keys.account_identifier_key(identifier)
        )
        update = Update().set(field_name, new)
        condition = f"{update.name(field_name)} = {update.value(old)}"
        return self.store.update(item_key, update, condition)

    # ------------------------------------------------------------------ follow-up steps

    def finish(
        self, merge_id: str, log: dict[str, Any] | None = None, skip_repoints: int = 0
    ) -> None:
        """Run a merge's idempotent follow-up steps and clear it from the survivor."""
        if log is None:
            log = self.store.batch_get([keys.merge_key(merge_id)]).get(
                _pair(keys.merge_key(merge_id))
            )
        if log is None or log.get("redacted"):
            return
        entity: Entity = log["entity"]
        survivor, loser = str(log["survivor"]), str(log["loser"])
        tokens = sorted(log["loser_snapshot"].get("identifiers", set()))[skip_repoints:]
        self.steps([self._repoint(entity, token, loser, survivor) for token in tokens])
        if entity == "person":
            self._move_person_references(log, survivor, loser)
        else:
            self._move_account_references(log, survivor, loser)
        key_of = keys.person_key if entity == "person" else keys.account_key
        update = Update().delete("absorbing", {merge_id})
        self._try(self.store.update(key_of(survivor), update, "attribute_exists(PK)"))

    def _move_person_references(self, log: dict[str, Any], survivor: str, loser: str) -> None:
        """Memberships and per-day `people` entries go from the loser to the survivor.

        A day's set cannot gain one id and lose another in one write, so the survivor is
        added everywhere first and the loser removed after: idempotent, and at worst a day
        lists both for a moment.
        """
        accounts = sorted(log["loser_snapshot"].get("accounts", set()))
        days = [
            keys.day_key(*ref.split("|", 1))
            for ref in [*log.get("days_loser_only", []), *log.get("days_both", [])]
        ]
        self.steps(
            [self.store.put(member_item(a, survivor)) for a in accounts]
            + [self.store.update(k, Update().add("people", {survivor})) for k in days]
        )
        self.steps(
            [self.store.delete(keys.membership_key(a, loser)) for a in accounts]
            + [self.store.update(k, Update().delete("people", {loser})) for k in days]
        )

    def _move_account_references(self, log: dict[str, Any], survivor: str, loser: str) -> None:
        """Members, their `accounts` sets and every day of activity go to the survivor."""
        members = sorted(log.get("members", set()))
        self.steps(
            [self.store.put(member_item(survivor, p)) for p in members]
            + [self._person_accounts(p, add={survivor}) for p in members]
        )
        self.steps(
            [self.store.delete(keys.membership_key(loser, p)) for p in members]
            + [self._person_accounts(p, remove={loser}) for p in members]
        )
        moves: list[list[dict[str, Any]]] = []
        for item in self._all_days(loser):
            day = str(item["SK"])[4:]
            moved = day_update(DayDelta.from_item(item), survivor, day)
            gone = self.store.delete(keys.day_key(loser, day))
            gone["Delete"]["ConditionExpression"] = "attribute_exists(PK)"
            moves.append([self.store.update(keys.day_key(survivor, day), moved), gone])
        self._move_days(moves)
        # The loser's ranking entry would keep a merged-away account in the at-risk list.
        # Limitation: its score history, actions and cooldowns stay under the old account id.
        self.store.apply(self.store.delete(keys.key(keys.account_pk(loser), "SCORE#LATEST")))

    def _move_days(self, moves: list[list[dict[str, Any]]]) -> None:
        """Each day moves atomically (add to the survivor, delete from the loser); a day the
        condition finds already gone was moved before and is skipped."""
        for start in range(0, len(moves), TRANSACTION_LIMIT // 2):
            group = moves[start : start + TRANSACTION_LIMIT // 2]
            try:
                self.store.transact([operation for move in group for operation in move])
            except TransactionCancelled:
                for move in group:
                    try:
                        self.store.transact(move)
                    except TransactionCancelled:
                        continue

    def steps(self, operations: list[dict[str, Any]]) -> None:
        """Apply idempotent operations, up to 100 per request; if a condition refuses the
        group, apply them one by one and skip the refused ones (someone else did them)."""
        for start in range(0, len(operations), TRANSACTION_LIMIT):
            group = operations[start : start + TRANSACTION_LIMIT]
            if len(group) == 1:
                self._try(group[0])
                continue
            try:
                self.store.transact(group)
            except TransactionCancelled:
                for operation in group:
                    self._try(operation)

    def _person_accounts(
        self, person_id: str, add: set[str] | None = None, remove: set[str] | None = None
    ) -> dict[str, Any]:
        # No version bump: ADD / DELETE on the set commute with a fold's guarded SETs.
        update = Update()
        update.add("accounts", add or set())
        update.delete("accounts", remove or set())
        condition = "attribute_exists(PK) AND attribute_not_exists(merged_into)"
        return self.store.update(keys.person_key(person_id), update, condition)

    def _try(self, operation: dict[str, Any]) -> bool:
        """Run one conditional step; a failed condition means someone else already did it."""
        from botocore.exceptions import ClientError

        try:
            self.store.apply(operation)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    # ------------------------------------------------------------------ unmerge

    def unmerge(self, merge_id: str) -> UnmergeReport:
        """Restore what one merge joined: the loser's identifiers, traits and memberships.

        What the loser brought is taken back from whichever profile holds it now (the survivor,
        or the profile the survivor was merged into later). Facts that arrived after the merge
        stay where they landed. The two profiles never merge again automatically.
        """
        found = self.store.batch_get([keys.merge_key(merge_id), keys.unmerge_key(merge_id)])
        log = found.get((f"MERGE#{merge_id}", "LOG"))
        if log is None:
            raise NotFound(f"no merge {merge_id!r} in the merge log; merge ids look like m_<hex>")
        if (f"MERGE#{merge_id}", "UNMERGE") in found:
            raise Conflict(f"merge {merge_id!r} was already undone")
        if log.get("redacted"):
            raise Conflict(f"merge {merge_id!r} was redacted by a deletion and cannot be undone")
        if log["entity"] == "person":
            return self._unmerge(log, "person")
        return self._unmerge(log, "account")

    def _unmerge(self, log: dict[str, Any], entity: Entity) -> UnmergeReport:
        merge_id, loser_id = str(log["merge_id"]), str(log["loser"])
        holder = self.store.resolve(entity, str(log["survivor"]))
        loser = self.store.load(entity, [loser_id]).get(loser_id)
        if holder is None or loser is None or loser.merged_into is None:
            raise Conflict(f"the profiles of merge {merge_id!r} changed too much to split them")

        lost = restore_snapshot(entity, loser_id, log["loser_snapshot"])
        owned = self._owned_by(entity, lost.identifiers, holder.id)
        lost.identifiers = owned
        kept = split_traits(holder, log["survivor_snapshot"], log["loser_snapshot"])
        report = UnmergeReport(merge_id, entity, loser_id, holder.id, len(owned), kept)

        at = iso(self.clock())
        record = {
            **{name: value["S"] for name, value in keys.unmerge_key(merge_id).items()},
            "merge_id": merge_id,
            "unmerged_at": at,
            "holder": holder.id,
        }
        restored = lost.to_item()
        restored["version"] = loser.version + 1
        restored["no_merge"] = set(lost.no_merge) | {holder.id}
        restored["unmerged_at"] = at
        operations = [
            self.store.put(record, "attribute_not_exists(PK)"),
            self._restore_put(restored, loser.version),
            self._holder_update(holder, owned, lost),
            *(self._repoint(entity, t, holder.id, loser_id) for t in sorted(owned)[:90]),
        ]
        try:
            self.store.transact(operations)
        except TransactionCancelled as exc:
            raise Conflict(f"merge {merge_id!r} is being changed concurrently; retry") from exc
        for token in sorted(owned)[90:]:
            self._try(self._repoint(entity, token, holder.id, loser_id))
        if entity == "person":
            self._restore_person_references(log, holder, lost, report)
        else:
            self._restore_account_references(log, holder, lost, report)
        logger.info("unmerged profiles", extra={"entity": entity, "merge_id": merge_id})
        return report

    def _owned_by(self, entity: Entity, tokens: set[str], holder: str) -> set[str]:
        key_of = keys.identifier_key if entity == "person" else keys.account_identifier_key
        items = self.store.batch_get(key_of(Identifier.parse(t)) for t in tokens)
        field_name = f"{entity}_id"
        return {
            t
            for t in tokens
            if items.get(_pair(key_of(Identifier.parse(t))), {}).get(field_name) == holder
        }

    def _restore_put(self, item: dict[str, Any], version: int) -> dict[str, Any]:
        operation = self.store.put(item, "version = :version AND attribute_exists(merged_into)")
        operation["Put"]["ExpressionAttributeValues"] = {":version": attr(version)}
        return operation

    def _holder_update(self, holder: Profile, owned: set[str], lost: Profile) -> dict[str, Any]:
        update = profile_update(holder).bump()
        update.delete("identifiers", owned)
        update.add("no_merge", {lost.id})
        condition = f"{update.name('version')} = {update.value(holder.version)}"
        return self.store.update(holder.key, update, condition)

    def _restore_person_references(
        self, log: dict[str, Any], holder: Profile, lost: Profile, report: UnmergeReport
    ) -> None:
        before = set(log["survivor_snapshot"].get("accounts", set()))
        for account_id in sorted(lost.accounts):
            self.store.apply(self.store.put(member_item(account_id, lost.id)))
            report.memberships_restored += 1
            if account_id not in before:
                self.store.apply(self.store.delete(keys.membership_key(account_id, holder.id)))
                self._try(self._person_accounts(holder.id, remove={account_id}))
        # Limitation: on a day only the loser was active before the merge, the survivor is
        # taken out of `people` again even if it was active there after the merge too.
        for ref in log.get("days_loser_only", []):
            account_id, day = ref.split("|", 1)
            self._swap_day_person(account_id, day, add=lost.id, remove=holder.id)
            report.days_restored += 1
        for ref in log.get("days_both", []):
            account_id, day = ref.split("|", 1)
            update = Update().add("people", {lost.id})
            self.store.apply(self.store.update(keys.day_key(account_id, day), update))
            report.days_restored += 1
        report.notes.append(
            "activity folded after the merge stays with the survivor; per-account counters "
            "were never per person, so they are unaffected"
        )

    def _restore_account_references(
        self, log: dict[str, Any], holder: Profile, lost: Profile, report: UnmergeReport
    ) -> None:
        before_members = set(self.store.members(holder.id))
        for person in sorted(log.get("members", set())):
            self.store.apply(self.store.put(member_item(lost.id, person)))
            self._try(self._person_accounts(person, add={lost.id}))
            report.memberships_restored += 1
        survivor_members = set(log.get("survivor_members", before_members))
        for person in sorted(set(log.get("members", set())) - survivor_members):
            self.store.apply(self.store.delete(keys.membership_key(holder.id, person)))
            self._try(self._person_accounts(person, remove={holder.id}))
        # Limitation: an account unmerge does not split daily activity; the merge summed the
        # loser's days into the survivor's and per-day counters cannot be told apart.
        report.notes.append(
            "daily activity moved onto the survivor by the merge stays there: counters were "
            "summed per day and cannot be split"
        )

    def _swap_day_person(self, account_id: str, day: str, add: str, remove: str) -> None:
        item_key = keys.day_key(account_id, day)
        self.store.apply(self.store.update(item_key, Update().add("people", {add})))
        self.store.apply(self.store.update(item_key, Update().delete("people", {remove})))


# ---------------------------------------------------------------------- shared builders


def profile_update(profile: Profile) -> Update:
    """SET the joinable fields of a profile (traits, provenance, first and last seen)."""
    update = Update().set("traits", dict(profile.traits.values))
    update.set("trait_meta", profile.traits.meta_items())
    if profile.first_seen:
        update.set("first_seen", profile.first_seen)
    if profile.last_seen and profile.entity == "person":
        update.set("last_seen", profile.last_seen)
    return update


def member_item(account_id: str, person_id: str) -> dict[str, Any]:
    return {
        "PK": keys.account_pk(account_id),
        "SK": keys.membership_sk(person_id),
        "account_id": account_id,
        "person_id": person_id,
    }


def day_update(delta: DayDelta, account_id: str, day: str) -> Update:
    """ADD a delta to a day item (creating it if needed)."""
    numbers, sets, observations = delta.attributes()
    update = Update().set_once("account_id", account_id).set_once("day", day)
    for name, number in sorted(numbers.items()):
        update.add(name, number)
    for name, values in sorted(sets.items()):
        update.add(name, values)
    for name, seats in sorted(observations.items()):
        update.set(name, seats)
    return update


def restore_snapshot(entity: Entity, profile_id: str, snapshot: dict[str, Any]) -> Profile:
    return Profile(
        entity,
        profile_id,
        identifiers=set(snapshot.get("identifiers", set())),
        traits=TraitSet.from_items(snapshot.get("traits", {}), snapshot.get("trait_meta", {})),
        first_seen=snapshot.get("first_seen"),
        last_seen=snapshot.get("last_seen"),
        accounts=set(snapshot.get("accounts", set())),
        no_merge=set(snapshot.get("no_merge", set())),
    )


def split_traits(holder: Profile, before: dict[str, Any], loser: dict[str, Any]) -> int:
    """Give back traits the holder has only because of the loser; returns how many changed.

    A trait whose current provenance is exactly the loser's reverts to the survivor's value
    from before the merge (or disappears if the survivor had none). A trait that changed
    since the merge keeps its newer value.
    """
    loser_meta = {k: Provenance.from_item(v) for k, v in loser.get("trait_meta", {}).items()}
    before_traits = TraitSet.from_items(before.get("traits", {}), before.get("trait_meta", {}))
    changed = 0
    for name, provenance in loser_meta.items():
        if holder.traits.meta.get(name) != provenance:
            continue
        changed += 1
        if name in before_traits.meta:
            holder.traits.values[name] = before_traits.values[name]
            holder.traits.meta[name] = before_traits.meta[name]
        else:
            holder.traits.values.pop(name, None)
            holder.traits.meta.pop(name, None)
    return changed


def _pair(item_key: keys.Key) -> tuple[str, str]:
    return (item_key["PK"]["S"], item_key["SK"]["S"])
