"""In-memory stand-ins for the profile stage's unit tests (no AWS)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from intercept.events import CanonicalEvent
from intercept.profiles import keys
from intercept.profiles.rules import ProfileRules
from intercept.profiles.state import Entity, Profile


class MemoryStore:
    """Just enough of `ProfileStore` for `identity.Graph`: items in a dict, no AWS."""

    def __init__(self, rules: ProfileRules | None = None) -> None:
        self.rules = rules or ProfileRules()
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads = 0

    def add(self, item: dict[str, Any]) -> None:
        self.items[(item["PK"], item["SK"])] = item

    def add_person(self, person_id: str, *tokens: str, **extra: Any) -> None:
        self.add(
            {
                "PK": f"PERSON#{person_id}",
                "SK": "PROFILE",
                "person_id": person_id,
                "entity": "person",
                "version": 1,
                "identifiers": set(tokens),
                **extra,
            }
        )
        for token in tokens:
            kind, value = token.split(":", 1)
            item_key = keys.identifier_key(keys.Identifier(kind, value))
            self.add(
                {
                    "PK": item_key["PK"]["S"],
                    "SK": "ID",
                    "kind": kind,
                    "value": value,
                    "person_id": person_id,
                    **extra.get("_id_extra", {}),
                }
            )

    def batch_get(self, item_keys: Iterable[keys.Key], **_: Any) -> dict[tuple[str, str], Any]:
        self.reads += 1
        wanted = {(k["PK"]["S"], k["SK"]["S"]) for k in item_keys}
        return {k: v for k, v in self.items.items() if k in wanted}

    def load_profiles(
        self, wanted: dict[Entity, Iterable[str]]
    ) -> dict[Entity, dict[str, Profile]]:
        found: dict[Entity, dict[str, Profile]] = {}
        for entity, ids in wanted.items():
            prefix = "PERSON#" if entity == "person" else "ACCOUNT#"
            found[entity] = {
                i: Profile.from_item(entity, self.items[(prefix + i, "PROFILE")])
                for i in ids
                if (prefix + i, "PROFILE") in self.items
            }
        return found

    def emails_at(self, domain: str) -> dict[str, str]:
        return {
            item["value"]: item["person_id"]
            for item in self.items.values()
            if item.get("kind") == "email" and item["value"].endswith("@" + domain)
        }


class RecordingMerger:
    """A merge writer that records merges and applies them to the profile objects only."""

    def __init__(self) -> None:
        self.merges: list[tuple[str, str, str]] = []

    def merge(
        self, entity: Entity, survivor: Profile, loser: Profile, cause: CanonicalEvent
    ) -> str:
        self.merges.append((entity, survivor.id, loser.id))
        survivor.absorb(loser)
        loser.merged_into = survivor.id
        return f"m_{len(self.merges)}"
