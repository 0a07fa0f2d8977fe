"""Conversions between Python values and DynamoDB's typed attribute values.

Numbers travel as `Decimal` both ways, so sums stay exact and do not depend on the order in
which they were added; floats are converted through their shortest text form. Timestamps are
stored as fixed-width ISO-8601 UTC strings, which sort like the instants they name.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()

Item = dict[str, Any]


def iso(moment: datetime) -> str:
    """``2024-05-01T09:30:00.000000Z``: fixed width, so strings compare like instants."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def decimal(value: float | int | Decimal) -> Decimal:
    """An exact Decimal for a number (floats through their shortest repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def to_storable(value: Any) -> Any:
    """Make a JSON-like value storable: floats to Decimal, non-finite numbers dropped."""
    if isinstance(value, bool) or value is None or isinstance(value, str | Decimal):
        return value
    if isinstance(value, float):
        return decimal(value) if math.isfinite(value) else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Mapping):
        return {str(k): to_storable(v) for k, v in value.items() if not _empty_set(v)}
    if isinstance(value, set | frozenset):
        return {to_storable(v) for v in value}
    if isinstance(value, list | tuple):
        return [to_storable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


def _empty_set(value: Any) -> bool:
    return isinstance(value, set | frozenset) and not value


def to_plain(value: Any) -> Any:
    """The reverse of `to_storable`: Decimal to int or float, sets to sorted lists kept as sets."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return {to_plain(v) for v in value}
    return value


def attr(value: Any) -> dict[str, Any]:
    """One typed attribute value."""
    return dict(_SERIALIZER.serialize(to_storable(value)))


def encode(item: Mapping[str, Any]) -> dict[str, Any]:
    """A typed item; empty sets are left out because DynamoDB cannot store them."""
    typed: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, set | frozenset) and not value:
            continue
        typed[name] = attr(value)
    return typed


def decode(typed: Mapping[str, Any]) -> Item:
    """A plain item with Decimal numbers, as `TypeDeserializer` gives it."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in typed.items()}
