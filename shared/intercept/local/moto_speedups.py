"""Keep moto's DynamoDB fast enough to run a whole company through the local runtime.

Two costs in moto grow with the size of a table, not with the work done:

- ``TransactWriteItems`` deep-copies every table it touches, once per item in the
  transaction, to be able to roll back. With a few thousand items and stream records that is
  seconds per transaction. `install` replaces that copy with a snapshot of only the items the
  transaction names (and the stream's length), which is all a rollback has to restore.
- A table's stream keeps every record it ever produced. `trim_stream` drops records the runtime
  has already delivered and moves the shard's starting sequence number on by as many, so the
  sequence numbers of the remaining and future records do not change.

Both act on moto's in-memory backend, which is in this process in both modes the runtime
uses (in-process mocks and the threaded moto server).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_installed = False
_guard = threading.Lock()


@dataclass
class _Snapshot:
    table: Any
    hash_key: Any
    range_key: Any
    item: Any  # a deep copy of the stored item, or None when there was none


def install() -> None:
    """Patch moto's transaction rollback to snapshot only what a transaction touches."""
    global _installed
    with _guard:
        if _installed:
            return
        from moto.dynamodb.models import DynamoDBBackend

        original = DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            snapshots = _snapshot(self, transact_items)
            try:
                with _tables_copied_by_reference():
                    original(self, transact_items)
            except Exception:
                _restore(snapshots)
                raise

        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _installed = True


@contextmanager
def _tables_copied_by_reference() -> Iterator[None]:
    """While active, `copy.deepcopy(table)` returns the table itself (rollback is ours)."""
    from moto.dynamodb.models.table import Table

    had = "__deepcopy__" in Table.__dict__
    previous = Table.__dict__.get("__deepcopy__")
    Table.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if had:
            Table.__deepcopy__ = previous  # type: ignore[attr-defined]
        else:
            del Table.__deepcopy__  # type: ignore[attr-defined]


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    snapshots: list[Any] = []
    streams: dict[int, tuple[Any, int]] = {}
    for entry in transact_items:
        for operation in entry.values():
            table = backend.tables.get(operation.get("TableName"))
            if table is None:
                continue
            key = operation.get("Key") or operation.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = (
                DynamoType(key[table.range_key_attr])
                if table.range_key_attr and table.range_key_attr in key
                else None
            )
            stored = table.get_item(hash_key, range_key)
            snapshots.append(_Snapshot(table, hash_key, range_key, copy.deepcopy(stored)))
            shard = table.stream_shard
            if shard is not None and id(shard) not in streams:
                streams[id(shard)] = (shard, len(shard.items))
    return snapshots + list(streams.values())


def _restore(snapshots: list[Any]) -> None:
    """Put touched items back as they were, then forget stream records written since."""
    for entry in reversed(snapshots):
        if isinstance(entry, tuple):
            continue
        table = entry.table
        if entry.range_key is not None:
            bucket = table.items[entry.hash_key]
            if entry.item is None:
                bucket.pop(entry.range_key, None)
            else:
                bucket[entry.range_key] = entry.item
        elif entry.item is None:
            table.items.pop(entry.hash_key, None)
        else:
            table.items[entry.hash_key] = entry.item
    for entry in snapshots:
        if isinstance(entry, tuple):
            shard, length = entry
            del shard.items[length:]


def trim_stream(table_name: str, delivered_up_to: str, region: str, account_id: str) -> int:
    """Drop stream records up to and including sequence number `delivered_up_to`."""
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[account_id][region].tables.get(table_name)
    shard = getattr(table, "stream_shard", None)
    if shard is None:
        return 0
    with _guard:
        count = int(delivered_up_to) - int(shard.starting_sequence_number) + 1
        count = max(0, min(count, len(shard.items)))
        if count:
            del shard.items[:count]
            shard.starting_sequence_number += count
    return count
