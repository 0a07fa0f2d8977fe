"""Data access for people, accounts, identifiers and daily activity in the profiles table.

`ProfileStore` wraps one low-level DynamoDB client: batched reads, transactions and queries,
plus the typed reads other stages need. The module-level functions at the bottom are what
the scoring stage and the planner call; they read the table named by the settings.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from intercept.profiles import keys
from intercept.profiles.activity import StoredDays, daily_activity
from intercept.profiles.codec import Item, attr, decode, encode, parse_iso, to_plain
from intercept.profiles.keys import Identifier
from intercept.profiles.rules import ProfileRules, rules_from_json
from intercept.profiles.state import Entity, Profile
from intercept.records import Account, DailyActivity
from intercept.settings import get_settings

BATCH_GET_LIMIT = 100
TRANSACTION_LIMIT = 100
REDIRECT_DEPTH = 8
READ_WORKERS = 8
"""Accounts whose day items are queried at once when scoring reads many (waits, not CPU)."""
ACCOUNT_RECORD_FIELDS = frozenset(Account.model_fields) - {"account_id", "traits", "first_seen"}


class TransactionCancelled(Exception):
    """A transaction was refused; `reasons` holds one code per operation ("None" = fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(f"transaction cancelled: {sorted(set(reasons) - {'None'})}")
        self.reasons = reasons


@dataclass
class Update:
    """Builds an UpdateItem expression with placeholder names and values."""

    sets: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        for placeholder, existing in self.names.items():
            if existing == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attr(value)
        return placeholder

    def set(self, attribute: str, value: Any) -> Update:
        self.sets.append(f"{self.name(attribute)} = {self.value(value)}")
        return self

    def set_once(self, attribute: str, value: Any) -> Update:
        name = self.name(attribute)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(value)})")
        return self

    def bump(self, attribute: str = "version") -> Update:
        name = self.name(attribute)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(0)}) + {self.value(1)}")
        return self

    def add(self, attribute: str, value: Any) -> Update:
        if not (isinstance(value, set) and not value):
            self.adds.append(f"{self.name(attribute)} {self.value(value)}")
        return self

    def delete(self, attribute: str, values: AbstractSet[str]) -> Update:
        if values:
            self.deletes.append(f"{self.name(attribute)} {self.value(set(values))}")
        return self

    def remove(self, attribute: str) -> Update:
        self.removes.append(self.name(attribute))
        return self

    @property
    def empty(self) -> bool:
        return not (self.sets or self.adds or self.deletes or self.removes)

    def expression(self) -> str:
        clauses = [
            (verb, ", ".join(parts))
            for verb, parts in (
                ("SET", self.sets),
                ("ADD", self.adds),
                ("DELETE", self.deletes),
                ("REMOVE", self.removes),
            )
            if parts
        ]
        return " ".join(f"{verb} {body}" for verb, body in clauses)


class ProfileStore:
    """The profiles table (and the idempotency table's fold marks) behind one client.

    Parameters
    ----------
    table : name of the profiles table.
    idempotency_table : name of the table holding one mark per folded event.
    client : a low-level DynamoDB client; the package's cached one by default.
    rules : identity and trait rules; the settings' by default.
    dedupe_days : how long a folded event id is remembered.
    """

    def __init__(
        self,
        table: str,
        idempotency_table: str = "",
        *,
        client: Any | None = None,
        rules: ProfileRules | None = None,
        dedupe_days: int = 7,
    ) -> None:
        self.table = table
        self.idempotency_table = idempotency_table
        self._client = client
        self.rules = rules or ProfileRules()
        self.dedupe_days = dedupe_days

    @classmethod
    def from_settings(cls) -> ProfileStore:
        settings = get_settings()
        return cls(
            settings.require("profiles_table"),
            settings.idempotency_table,
            rules=rules_from_json(settings.profile_rules),
            dedupe_days=settings.dedupe_days,
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            from intercept.aws import client

            self._client = client("dynamodb")
        return self._client

    # ------------------------------------------------------------------ primitives

    def batch_get(
        self, item_keys: Iterable[keys.Key], *, table: str | None = None, consistent: bool = True
    ) -> dict[tuple[str, str], Item]:
        """Items by (PK, SK) (or (id, "") for the idempotency table); absent keys are left out."""
        name = table or self.table
        unique = list({_key_id(k): k for k in item_keys}.values())
        found: dict[tuple[str, str], Item] = {}
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                name: {
                    "Keys": unique[start : start + BATCH_GET_LIMIT],
                    "ConsistentRead": consistent,
                }
            }
            for attempt in range(8):
                answer = self.client.batch_get_item(RequestItems=request)
                for typed in answer["Responses"].get(name, []):
                    found[_key_id(typed)] = decode(typed)
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
        return found

    def transact(self, operations: Sequence[dict[str, Any]]) -> None:
        """Run up to 100 operations atomically, or raise `TransactionCancelled`."""
        if not operations:
            return
        try:
            self.client.transact_write_items(TransactItems=list(operations))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            raise TransactionCancelled(reasons) from exc

    def query(self, **request: Any) -> Iterator[Item]:
        """Every item of a query, page after page."""
        for typed in self._typed_pages({"TableName": self.table, **request}):
            yield decode(typed)

    def put(self, item: dict[str, Any], condition: str | None = None) -> dict[str, Any]:
        operation: dict[str, Any] = {"TableName": self.table, "Item": encode(item)}
        if condition:
            operation["ConditionExpression"] = condition
        return {"Put": operation}

    def update(
        self, item_key: keys.Key, update: Update, condition: str | None = None
    ) -> dict[str, Any]:
        """An Update operation; `condition` may use the update's placeholders."""
        operation: dict[str, Any] = {
            "TableName": self.table,
            "Key": item_key,
            "UpdateExpression": update.expression(),
        }
        if condition:
            operation["ConditionExpression"] = condition
        if update.names:
            operation["ExpressionAttributeNames"] = dict(update.names)
        if update.values:
            operation["ExpressionAttributeValues"] = dict(update.values)
        return {"Update": operation}

    def check(self, item_key: keys.Key, condition: str, values: dict[str, Any]) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "TableName": self.table,
            "Key": item_key,
            "ConditionExpression": condition,
        }
        if values:
            operation["ExpressionAttributeValues"] = {k: attr(v) for k, v in values.items()}
        return {"ConditionCheck": operation}

    def delete(self, item_key: keys.Key) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table, "Key": item_key}}

    def apply(self, operation: dict[str, Any]) -> None:
        """Run one operation of the transaction format on its own."""
        verb, body = next(iter(operation.items()))
        call = {
            "Put": self.client.put_item,
            "Update": self.client.update_item,
            "Delete": self.client.delete_item,
        }[verb]
        call(**body)

    # ------------------------------------------------------------------ fold marks

    def folded(self, event_ids: Iterable[str], now: float | None = None) -> set[str]:
        """The event ids already folded (within the dedupe window)."""
        if not self.idempotency_table:
            return set()
        now = time.time() if now is None else now
        ids = {keys.dedupe_id(e): e for e in event_ids}
        found = self.batch_get(
            ({"id": {"S": i}} for i in ids), table=self.idempotency_table, consistent=False
        )
        return {
            ids[name]
            for (name, _), item in found.items()
            if int(item.get("expiration", now + 1)) > now
        }

    def mark(self, event_id: str, now: float) -> dict[str, Any]:
        """The operation that records a folded event; it fails if the event was folded."""
        # Limitation: a mark lives `dedupe_days`; an event redriven from the DLQ or replayed
        # from the archive after that is counted again.
        expiration = int(now + self.dedupe_days * 86400)
        return {
            "Put": {
                "TableName": self.idempotency_table,
                "Item": {
                    "id": {"S": keys.dedupe_id(event_id)},
                    "expiration": {"N": str(expiration)},
                    "status": {"S": "COMPLETED"},
                },
                "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
                "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
            }
        }

    # ------------------------------------------------------------------ profiles

    def load(self, entity: Entity, ids: Iterable[str]) -> dict[str, Profile]:
        """Profiles by id (tombstones of merged profiles included, with `merged_into`)."""
        return self.load_profiles({entity: ids})[entity]

    def load_profiles(
        self, wanted: dict[Entity, Iterable[str]]
    ) -> dict[Entity, dict[str, Profile]]:
        """People and accounts by id in one batched read."""
        key_of = {"person": keys.person_key, "account": keys.account_key}
        items = self.batch_get(key_of[entity](i) for entity, ids in wanted.items() for i in ids)
        found: dict[Entity, dict[str, Profile]] = {entity: {} for entity in wanted}
        for (pk, _), item in items.items():
            entity: Entity = "person" if pk.startswith("PERSON#") else "account"
            if entity in found:
                profile = Profile.from_item(entity, item)
                found[entity][profile.id] = profile
        return found

    def resolve(self, entity: Entity, profile_id: str) -> Profile | None:
        """A live profile, following merges from `profile_id`; None when there is none."""
        for _ in range(REDIRECT_DEPTH):
            profile = self.load(entity, [profile_id]).get(profile_id)
            if profile is None or profile.merged_into is None:
                return profile
            profile_id = profile.merged_into
        return None

    def create(self, profile: Profile, identifier_key: keys.Key, extra: dict[str, Any]) -> None:
        """Store a new profile together with one identifier item pointing to it.

        Raises `TransactionCancelled` if either already exists.
        """
        owner = {f"{profile.entity}_id": profile.id}
        item = {name: value["S"] for name, value in identifier_key.items()} | extra | owner
        self.transact(
            [
                self.put(profile.to_item(), "attribute_not_exists(PK)"),
                self.put(item, "attribute_not_exists(PK)"),
            ]
        )

    def owner(self, entity: Entity, identifier: Identifier) -> str | None:
        """The profile id an identifier points to (possibly a merged-away one)."""
        key_of = keys.identifier_key if entity == "person" else keys.account_identifier_key
        item = self.batch_get([key_of(identifier)]).get(_key_id(key_of(identifier)))
        if item is None:
            return None
        return str(item["person_id" if entity == "person" else "account_id"])

    def find(self, entity: Entity, identifier: Identifier) -> Profile | None:
        """The live profile an identifier belongs to."""
        owner = self.owner(entity, identifier)
        return self.resolve(entity, owner) if owner else None

    def members(self, account_id: str) -> list[str]:
        """Person ids attached to an account."""
        items = self.query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": attr(keys.account_pk(account_id)),
                ":prefix": attr("PERSON#"),
            },
            ProjectionExpression="person_id",
        )
        return sorted(str(item["person_id"]) for item in items)

    def days(self, account_id: str, start: str, end: str, **extra: Any) -> Iterator[Item]:
        """Day items of an account between two ISO days, inclusive."""
        return self.query(**_days_request(account_id, start, end, **extra))

    def days_with_person(self, account_id: str, person: Profile) -> list[Item]:
        """The account's days whose active people include `person` (within its seen range)."""
        if not person.first_seen or not person.last_seen:
            return []
        return list(
            self.days(
                account_id,
                person.first_seen[:10],
                person.last_seen[:10],
                FilterExpression="contains(people, :person)",
                values={":person": attr(person.id)},
                ProjectionExpression="PK, SK, people",
            )
        )

    def emails_at(self, domain: str) -> dict[str, str]:
        """E-mail identifiers at a company domain and the person each points to."""
        items = self.query(
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": attr(f"EMAILDOMAIN#{domain}")},
        )
        return {str(item["value"]): str(item["person_id"]) for item in items}

    # ------------------------------------------------------------------ reads for scoring

    def get_account(self, account_id: str) -> Account | None:
        """The account's record, or None if it does not exist or was merged into another."""
        return self.get_accounts([account_id]).get(account_id)

    def get_accounts(self, account_ids: Iterable[str]) -> dict[str, Account]:
        """Records of the live accounts among `account_ids`, by id (batched reads)."""
        profiles = self.load("account", list(dict.fromkeys(account_ids)))
        return {
            pid: account_record(profile)
            for pid, profile in profiles.items()
            if profile.merged_into is None
        }

    def get_daily_activity(self, account_id: str, start: date, end: date) -> list[DailyActivity]:
        """The account's days from `start` to `end` inclusive, oldest first; quiet days absent."""
        items = self.days(account_id, start.isoformat(), end.isoformat(), ConsistentRead=False)
        return [daily_activity(account_id, item) for item in items]

    def get_stored_days(self, account_ids: Sequence[str], start: date, end: date) -> StoredDays:
        """Day items of several accounts from `start` to `end`, as columns for scoring.

        Items stay in DynamoDB's typed form (no decoding, no record per day): see `StoredDays`.
        Up to `READ_WORKERS` accounts are queried at once; a failed query raises.
        """
        from concurrent.futures import ThreadPoolExecutor  # only scoring reads this way

        stored = StoredDays()
        if not account_ids:
            return stored

        def items(account_id: str) -> list[dict[str, Any]]:
            request = _days_request(account_id, start.isoformat(), end.isoformat())
            return list(self._typed_pages({"TableName": self.table, **request}))

        with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(account_ids))) as pool:
            for account_id, typed in zip(account_ids, pool.map(items, account_ids), strict=True):
                stored.add_account(account_id, typed)
        return stored

    def _typed_pages(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a query in DynamoDB's typed form, page after page."""
        while True:
            page = self.client.query(**request)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def iter_account_ids(self) -> Iterator[str]:
        """Every live account id, from the sparse listing index (GSI1, ``ACCOUNTS#nn``)."""
        for shard in keys.account_shards():
            for item in self.query(
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :pk",
                ExpressionAttributeValues={":pk": attr(shard)},
                ProjectionExpression="GSI1SK",
            ):
                yield str(item["GSI1SK"])


def _days_request(account_id: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    """Query parameters for an account's day items between two ISO days, inclusive."""
    values = {
        ":pk": attr(keys.account_pk(account_id)),
        ":start": attr(keys.day_sk(start)),
        ":end": attr(keys.day_sk(end)),
    }
    values.update(extra.pop("values", {}))
    return {
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :start AND :end",
        "ExpressionAttributeValues": values,
        **extra,
    }


def account_record(profile: Profile) -> Account:
    """The `records.Account` view of an account profile; ARR is 12 x MRR when only MRR is known."""
    values = {name: to_plain(value) for name, value in profile.traits.values.items()}
    typed = {name: values.pop(name) for name in list(values) if name in ACCOUNT_RECORD_FIELDS}
    if typed.get("arr") is None and typed.get("mrr") is not None:
        typed["arr"] = round(12 * float(typed["mrr"]), 2)
    first_seen = parse_iso(profile.first_seen) if profile.first_seen else None
    return Account.model_validate(
        {"account_id": profile.id, **typed, "first_seen": first_seen, "traits": values}
    )


def _key_id(typed: dict[str, Any]) -> tuple[str, str]:
    if "id" in typed and "PK" not in typed:
        return (typed["id"]["S"], "")
    return (typed["PK"]["S"], typed["SK"]["S"])


# ---------------------------------------------------------------------- module-level DAL


def default_store() -> ProfileStore:
    return ProfileStore.from_settings()


def get_account(account_id: str) -> Account | None:
    """One live account's record (None if unknown or merged into another)."""
    return default_store().get_account(account_id)


def get_accounts(account_ids: Iterable[str]) -> dict[str, Account]:
    """Records of the live accounts among `account_ids`, keyed by account id."""
    return default_store().get_accounts(account_ids)


def get_daily_activity(account_id: str, start: date, end: date) -> list[DailyActivity]:
    """An account's daily activity from `start` to `end` (inclusive), oldest first."""
    return default_store().get_daily_activity(account_id, start, end)


def get_stored_days(account_ids: Sequence[str], start: date, end: date) -> StoredDays:
    """Day items of several accounts from `start` to `end` (inclusive), as columns."""
    return default_store().get_stored_days(account_ids, start, end)


def iter_account_ids() -> Iterator[str]:
    """Every live account id (sparse GSI1 listing, eight partitions)."""
    return default_store().iter_account_ids()


def resolve_account_id(account_id: str) -> str | None:
    """The live account an id now stands for (following merges), or None."""
    profile = default_store().resolve("account", account_id)
    return profile.id if profile else None
