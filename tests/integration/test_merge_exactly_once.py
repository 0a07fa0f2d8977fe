"""Redelivery, crashes mid-fold and racing duplicates never change the folded result."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from intercept.aws import client
from intercept.profiles.fold import Folder
from intercept.profiles.merge import Merger
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import (
    create_tables,
    differences,
    fast_moto_transactions,
    sample_stream,
    snapshot,
)
from intercept.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tables(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("PROFILES_TABLE", "profiles")
    reset_settings()
    with fast_moto_transactions():
        dynamodb = client("dynamodb")
        create_tables(dynamodb, ROOT, "profiles", "marks")
        create_tables(dynamodb, ROOT, "reference", "reference-marks")
        yield dynamodb


def _reference(dynamodb: Any, events: Sequence[Any]) -> dict[str, Any]:
    store = ProfileStore("reference", "reference-marks", client=dynamodb)
    for start in range(0, len(events), 25):
        Folder(store).fold(events[start : start + 25])
    return snapshot(dynamodb, "reference")


class CrashAfter(ProfileStore):
    """A store whose process 'dies' after `commits` transactions have been written."""

    def __init__(self, commits: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commits = commits

    def transact(self, operations: Sequence[dict[str, Any]]) -> None:
        if self.commits == 0:
            raise RuntimeError("process stopped")
        super().transact(operations)
        self.commits -= 1


class BlindToMarks(ProfileStore):
    """A store that misses existing marks in its pre-check, as a racing worker would."""

    def folded(self, event_ids: Any, now: float | None = None) -> set[str]:
        return set()


def test_redelivered_batch_changes_nothing(tables: Any) -> None:
    events = sample_stream(11, events=60)
    store = ProfileStore("profiles", "marks", client=tables)
    Folder(store).fold(events)
    before = snapshot(tables, "profiles")

    again = Folder(store).fold(list(reversed(events)))

    assert again.folded == [] and len(again.duplicates) == len(events)
    assert differences(before, snapshot(tables, "profiles")) == []


def test_crash_between_transactions_does_not_double_count(tables: Any) -> None:
    # GIVEN a batch big enough for several transactions, and a process that dies after one
    events = sample_stream(12, events=160)
    crashing = CrashAfter(1, "profiles", "marks", client=tables)
    with pytest.raises(RuntimeError, match="process stopped"):
        Folder(crashing).fold(events)
    # WHEN SQS redelivers the whole batch to a healthy process
    result = Folder(ProfileStore("profiles", "marks", client=tables)).fold(events)
    # THEN the events of the committed transaction are skipped and nothing is counted twice
    assert result.duplicates and result.folded
    assert len(result.duplicates) + len(result.folded) == len(events)
    folded = snapshot(tables, "profiles")
    assert folded["problems"] == []
    assert differences(_reference(tables, events), folded) == []


def test_racing_duplicate_is_refused_by_its_mark(tables: Any) -> None:
    events = sample_stream(13, events=30)
    Folder(ProfileStore("profiles", "marks", client=tables)).fold(events)
    before = snapshot(tables, "profiles")

    result = Folder(BlindToMarks("profiles", "marks", client=tables)).fold(events)

    assert result.folded == [] and sorted(result.duplicates) == sorted(e.event_id for e in events)
    assert differences(before, snapshot(tables, "profiles")) == []


def test_merge_interrupted_before_its_steps_is_finished_by_next_fold(tables: Any) -> None:
    # GIVEN merges whose follow-up steps never ran (the process died after the core)
    events = sample_stream(14, events=120)
    store = ProfileStore("profiles", "marks", client=tables)
    folder = Folder(store)

    class Interrupted(Merger):
        def finish(self, merge_id: str, log: Any = None, skip_repoints: int = 0) -> None:
            raise RuntimeError("process stopped")

    folder.merger = Interrupted(store)
    with pytest.raises(RuntimeError, match="process stopped"):
        for start in range(0, len(events), 20):
            folder.fold(events[start : start + 20])
    assert any("unfinished merges" in p for p in snapshot(tables, "profiles")["problems"])
    # WHEN the same messages come back to a healthy process
    for start in range(0, len(events), 20):
        Folder(store).fold(events[start : start + 20])
    # THEN the interrupted merges were finished and the result is as if nothing had happened
    folded = snapshot(tables, "profiles")
    assert folded["problems"] == []
    assert differences(_reference(tables, events), folded) == []
