"""The profile of a person or an account, as read from and written to the profiles table.

Everything a profile holds is a join: identifiers and account memberships are sets that
grow, traits keep the value with the highest provenance, `first_seen` is a minimum and
`last_seen` a maximum. Applying the same facts twice, or in another order, gives the same
profile; that is what lets a fold write a profile before all of its events are marked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from intercept.profiles import keys
from intercept.profiles.traits import TraitSet

Entity = Literal["person", "account"]


@dataclass
class Profile:
    """A person or account profile; ``version == 0`` means it is not stored yet."""

    entity: Entity
    id: str
    version: int = 0
    identifiers: set[str] = field(default_factory=set)
    traits: TraitSet = field(default_factory=TraitSet)
    first_seen: str | None = None
    last_seen: str | None = None
    accounts: set[str] = field(default_factory=set)
    no_merge: set[str] = field(default_factory=set)
    merged_into: str | None = None
    absorbing: set[str] = field(default_factory=set)
    saved: str = ""

    @property
    def stored(self) -> bool:
        return self.version > 0

    @property
    def key(self) -> keys.Key:
        if self.entity == "person":
            return keys.person_key(self.id)
        return keys.account_key(self.id)

    def unique(self, kind: str) -> str | None:
        """The identifier of `kind` this profile holds, if any (the per-type limit keeps one)."""
        prefix = f"{kind}:"
        values = sorted(t[len(prefix) :] for t in self.identifiers if t.startswith(prefix))
        return values[0] if values else None

    def see(self, moment: str) -> None:
        if self.first_seen is None or moment < self.first_seen:
            self.first_seen = moment
        if self.entity == "person" and (self.last_seen is None or moment > self.last_seen):
            self.last_seen = moment

    def absorb(self, other: Profile) -> None:
        """Join another profile's facts into this one (a merge)."""
        self.identifiers |= other.identifiers
        self.accounts |= other.accounts
        self.no_merge |= other.no_merge
        self.traits.absorb(other.traits)
        for moment in (other.first_seen, other.last_seen):
            if moment:
                self.see(moment)

    def clone(self) -> Profile:
        copy = Profile(
            self.entity,
            self.id,
            self.version,
            set(self.identifiers),
            self.traits.copy(),
            self.first_seen,
            self.last_seen,
            set(self.accounts),
            set(self.no_merge),
            self.merged_into,
            set(self.absorbing),
        )
        copy.saved = self.saved
        return copy

    def digest(self) -> str:
        """A fingerprint of the fields a fold SETs, to tell whether a write is needed."""
        return json.dumps(
            [self.traits.values, self.traits.meta_items(), self.first_seen, self.last_seen],
            sort_keys=True,
            default=str,
        )

    def mark_saved(self) -> None:
        self.saved = self.digest()

    def snapshot(self) -> dict[str, Any]:
        """The facts of this profile, as kept in a merge-log entry."""
        return {
            "identifiers": set(self.identifiers),
            "traits": dict(self.traits.values),
            "trait_meta": self.traits.meta_items(),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "accounts": set(self.accounts),
            "no_merge": set(self.no_merge),
        }

    def to_item(self) -> dict[str, Any]:
        """The full stored item (used when the profile is first written)."""
        item: dict[str, Any] = {
            **{name: value["S"] for name, value in self.key.items()},
            "entity": self.entity,
            f"{self.entity}_id": self.id,
            "version": self.version + 1,
            "identifiers": set(self.identifiers),
            "traits": dict(self.traits.values),
            "trait_meta": self.traits.meta_items(),
            "no_merge": set(self.no_merge),
        }
        if self.first_seen:
            item["first_seen"] = self.first_seen
        if self.entity == "person":
            item["accounts"] = set(self.accounts)
            if self.last_seen:
                item["last_seen"] = self.last_seen
        else:
            item["GSI1PK"] = keys.account_shard(self.id)
            item["GSI1SK"] = self.id
        return item

    @classmethod
    def from_item(cls, entity: Entity, item: dict[str, Any]) -> Profile:
        profile = cls(
            entity=entity,
            id=str(item[f"{entity}_id"]),
            version=int(item.get("version", 1)),
            identifiers=set(item.get("identifiers", set())),
            traits=TraitSet.from_items(item.get("traits", {}), item.get("trait_meta", {})),
            first_seen=item.get("first_seen"),
            last_seen=item.get("last_seen"),
            accounts=set(item.get("accounts", set())),
            no_merge=set(item.get("no_merge", set())),
            merged_into=item.get("merged_into"),
            absorbing=set(item.get("absorbing", set())),
        )
        profile.mark_saved()
        return profile
