"""Exactly-once in effect: any duplication, order and batching gives the same profiles."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intercept.aws import client
from intercept.profiles.fold import Folder
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import (
    create_tables,
    differences,
    fast_moto_transactions,
    sample_stream,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 40
SEEDS = (7, 1234, 9001)
_TABLES = itertools.count()
_REFERENCES: dict[int, dict[str, Any]] = {}


@pytest.fixture
def dynamodb(aws: None) -> Iterator[Any]:
    with fast_moto_transactions():
        yield client("dynamodb")


def _fold(dynamodb: Any, deliveries: list[Any], sizes: list[int]) -> dict[str, Any]:
    number = next(_TABLES)
    create_tables(dynamodb, ROOT, f"profiles-{number}", f"marks-{number}")
    store = ProfileStore(f"profiles-{number}", f"marks-{number}", client=dynamodb)
    start = 0
    for size in itertools.cycle(sizes):
        if start >= len(deliveries):
            break
        Folder(store).fold(deliveries[start : start + size])
        start += size
    return snapshot(dynamodb, f"profiles-{number}")


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), seed=st.sampled_from(SEEDS))
def test_duplicated_shuffled_rebatched_stream_gives_identical_profiles(
    dynamodb: Any, data: st.DataObject, seed: int
) -> None:
    # GIVEN a real-shaped stream, folded once in time order
    events = sample_stream(seed, events=EVENTS)
    if seed not in _REFERENCES:
        _REFERENCES[seed] = _fold(dynamodb, sorted(events, key=lambda e: e.occurred_at), [10])
    reference = _REFERENCES[seed]
    # WHEN each event is delivered one to three times, in any order, in any batch sizes
    copies = data.draw(st.lists(st.integers(1, 3), min_size=EVENTS, max_size=EVENTS))
    deliveries = [e for e, n in zip(events, copies, strict=True) for _ in range(n)]
    order = data.draw(st.permutations(range(len(deliveries))))
    sizes = data.draw(st.lists(st.integers(1, 40), min_size=1, max_size=6))
    folded = _fold(dynamodb, [deliveries[i] for i in order], sizes)
    # THEN people, accounts, traits, memberships and daily activity are the same
    assert folded["problems"] == []
    assert differences(reference, folded) == []
    assert len(reference["people"]) > 1 and reference["days"]


def test_stream_delivered_three_times_in_reverse_is_unchanged(dynamodb: Any) -> None:
    events = sample_stream(4242, events=60)
    once = _fold(dynamodb, events, [25])
    thrice = _fold(dynamodb, list(reversed(events)) * 3, [7, 31, 100])
    assert differences(once, thrice) == []
