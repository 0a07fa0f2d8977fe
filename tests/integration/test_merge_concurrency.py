"""Eight workers folding overlapping identities at once against moto's server mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercept.profiles.verify import concurrent_fold, sample_stream

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_eight_workers_lose_no_update_and_create_no_duplicate_person() -> None:
    # GIVEN one stream whose batches all touch the same few people and accounts
    events = sample_stream(21, events=80, companies=2, people=3)
    # WHEN eight workers, each with its own client, fold its batches at the same time
    outcome = concurrent_fold(events, ROOT, workers=8, batch_size=8, seed=21)
    # THEN the table equals the one a single worker builds, and every invariant holds
    assert outcome["workers"] == 8
    assert outcome["differences"] == []
    assert outcome["problems"] == []
    people = [set(name.split("|")) for name in outcome["snapshot"]["people"]]
    for left, right in zip(people, people[1:], strict=False):
        assert not left & right
    user_ids = [t for group in people for t in group if t.startswith("user_id:")]
    assert len(user_ids) == len(set(user_ids)) == 6
