"""Exporting and deleting one person's data.

Deleting a person removes, for that person and every profile merged into it: the identifier
items, the profile items, the account memberships, and the person's id from the per-day
``people`` sets. Merge-log entries naming the person are kept for the audit trail but
stripped of identifiers and traits.

What remains afterwards (and why):

- per-account daily counters (events, logins, sessions, module use, tickets, payments):
  they were never kept per person, so the person's share cannot be taken out;
- the raw request bodies in the archive bucket, written by Ingest for replay, until its
  lifecycle removes them;
- fold marks in the idempotency table: event ids only, expiring after ``dedupe_days``;
- account traits and scores: they describe the company, not the person;
- the opaque person id inside other people's ``linked_people`` / ``no_merge`` sets.

Events still queued for the person when it is deleted create a new person when they arrive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from intercept.observability import logger
from intercept.profiles import keys
from intercept.profiles.codec import attr, iso, to_plain
from intercept.profiles.keys import Identifier
from intercept.profiles.state import Profile
from intercept.profiles.store import ProfileStore, Update
from intercept.profiles.views import find_person, person_view

REMAINS = (
    "per-account daily counters (not kept per person)",
    "raw request bodies in the archive bucket until its lifecycle removes them",
    "fold marks in the idempotency table (event ids only) until they expire",
    "account traits and scores (they describe the company)",
)
_LOG_PERSONAL = (
    "survivor_snapshot",
    "loser_snapshot",
    "days_loser_only",
    "days_both",
    "members",
    "survivor_members",
)


def merge_entries(store: ProfileStore, person_id: str) -> tuple[list[dict[str, Any]], set[str]]:
    """Merge-log entries naming a person, and the profiles it absorbed (transitively).

    Merges that were undone are returned (they hold the person's data) but their losers are
    not counted as absorbed: they live on as people of their own.
    """
    entries: dict[str, dict[str, Any]] = {}
    absorbed: set[str] = set()
    todo = [person_id]
    while todo:
        current = todo.pop()
        found = [
            (role, item)
            for index, role in (("GSI1", "survivor"), ("GSI2", "loser"))
            for item in store.query(
                IndexName=index,
                KeyConditionExpression=f"{index}PK = :pk",
                ExpressionAttributeValues={":pk": attr(f"MERGES#{current}")},
            )
            if item.get("entity") == "person"
        ]
        undone = store.batch_get(keys.unmerge_key(str(item["merge_id"])) for _, item in found)
        for role, item in found:
            entries[str(item["merge_id"])] = item
            loser = str(item["loser"])
            unmerged = (f"MERGE#{item['merge_id']}", "UNMERGE") in undone
            if role == "survivor" and not unmerged and loser not in absorbed:
                absorbed.add(loser)
                todo.append(loser)
    ordered = sorted(entries.values(), key=lambda e: str(e.get("merged_at", "")))
    return ordered, absorbed - {person_id}


def export_person(store: ProfileStore, token: str) -> dict[str, Any]:
    """Everything held about the person an identifier names, as one JSON-ready document."""
    person = find_person(store, token)
    activity = [
        {
            "account_id": account_id,
            "days": [str(i["SK"])[4:] for i in store.days_with_person(account_id, person)],
        }
        for account_id in sorted(person.accounts)
    ]
    merges = [
        {
            "merge_id": e["merge_id"],
            "merged_at": e.get("merged_at"),
            "survivor": e["survivor"],
            "loser": e["loser"],
            "loser_snapshot": to_plain(e.get("loser_snapshot", {})),
        }
        for e in merge_entries(store, person.id)[0]
    ]
    document = person_view(person)
    document.update(
        {"activity": activity, "merges": _jsonable(merges), "exported_at": iso(datetime.now(UTC))}
    )
    logger.info("exported person", extra={"person_id": person.id})
    return document


def delete_person(store: ProfileStore, token: str) -> dict[str, Any]:
    """Delete the person an identifier names (see the module docstring for what remains)."""
    person = find_person(store, token)
    entries, absorbed = merge_entries(store, person.id)
    related = {person.id} | absorbed
    tokens = set(person.identifiers)
    for entry in entries:
        if str(entry["loser"]) in absorbed:
            tokens |= set(entry.get("loser_snapshot", {}).get("identifiers", set()))

    removed_identifiers = sum(_delete_identifier(store, t, related) for t in sorted(tokens))
    memberships, days = _delete_activity_references(store, person, related)
    for entry in entries:
        update = Update().set("redacted", True)
        for name in _LOG_PERSONAL:
            update.remove(name)
        store.apply(store.update(keys.merge_key(str(entry["merge_id"])), update))
    for profile_id in sorted(related):
        store.apply(store.delete(keys.person_key(profile_id)))

    # Limitation: the raw request bodies in the archive bucket are not touched; they go only
    # when the bucket's lifecycle removes them.
    logger.info("deleted person", extra={"person_id": person.id, "profiles": len(related)})
    return {
        "person_id": person.id,
        "profiles_deleted": len(related),
        "identifiers_deleted": removed_identifiers,
        "memberships_deleted": memberships,
        "days_updated": days,
        "merge_entries_redacted": len(entries),
        "remains": list(REMAINS),
    }


def _delete_identifier(store: ProfileStore, token: str, related: set[str]) -> int:
    """Delete an identifier item if it still points to one of the deleted profiles."""
    operation = store.delete(keys.identifier_key(Identifier.parse(token)))
    names = [f":p{n}" for n in range(len(related))]
    operation["Delete"]["ConditionExpression"] = f"person_id IN ({', '.join(names)})"
    operation["Delete"]["ExpressionAttributeValues"] = {
        name: attr(value) for name, value in zip(names, sorted(related), strict=True)
    }
    try:
        store.apply(operation)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return 0
    return 1


def _delete_activity_references(
    store: ProfileStore, person: Profile, related: set[str]
) -> tuple[int, int]:
    memberships = days = 0
    for account_id in sorted(person.accounts):
        for profile_id in sorted(related):
            store.apply(store.delete(keys.membership_key(account_id, profile_id)))
            memberships += 1
        for item in store.days_with_person(account_id, person):
            update = Update().delete("people", set(related))
            store.apply(store.update(keys.day_key(account_id, str(item["SK"])[4:]), update))
            days += 1
    return memberships, days


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value
