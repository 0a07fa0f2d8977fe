"""Replays re-create the same events, ids included, from the archived bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from ingest_support import NOW, WRITE_KEY, Clock, MemoryArchive, MemoryQueue

from intercept.errors import BadRequest
from intercept.ingest.replay import parse_moment, replay
from intercept.ingest.senders import basic_auth, http_event, stripe_headers
from intercept.ingest.service import Dependencies, handle


def ingest_sample(deps: Dependencies) -> None:
    batch = {
        "batch": [
            {"type": "track", "userId": "u-1", "event": "Signed In"},
            {"type": "identify", "userId": "u-1", "traits": {"email": "a@b.example"}},
        ],
        "writeKey": WRITE_KEY,
    }
    response = handle(http_event("POST", "/v1/batch", body=json.dumps(batch)), deps)
    assert response["statusCode"] == 200
    raw = json.dumps(
        {
            "id": "evt_9",
            "type": "invoice.paid",
            "created": 1772452000,
            "data": {"object": {"customer": "cus_9", "amount_paid": 500}},
        }
    ).encode()
    headers = stripe_headers(raw, "whsec_unit_current", int(NOW.timestamp()))
    response = handle(http_event("POST", "/webhooks/stripe", body=raw, headers=headers), deps)
    assert response["statusCode"] == 200


def test_replay_reproduces_identical_events(
    deps: Dependencies, archive: MemoryArchive, queue: MemoryQueue, clock: Clock
) -> None:
    ingest_sample(deps)
    live = {event.event_id: event for event in queue.events}
    replayed = MemoryQueue()
    clock.now = NOW + timedelta(days=3)
    for source in ("web", "stripe"):
        report = replay(
            source,
            NOW - timedelta(hours=1),
            NOW + timedelta(hours=1),
            archive=archive,
            queue=replayed,
        )
        assert report.objects == 1 and report.skipped == 0
    assert {event.event_id: event for event in replayed.events} == live


def test_replay_window_and_dry_run(
    deps: Dependencies, archive: MemoryArchive, queue: MemoryQueue
) -> None:
    ingest_sample(deps)
    replayed = MemoryQueue()
    before = replay(
        "web", NOW - timedelta(days=2), NOW - timedelta(days=1), archive=archive, queue=replayed
    )
    assert before.objects == 0 and replayed.sent == []
    dry = replay(
        "web",
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=1),
        archive=archive,
        queue=replayed,
        dry_run=True,
    )
    assert (dry.objects, dry.events, replayed.sent) == (1, 2, [])


def test_replay_skips_unreadable_archive_objects(archive: MemoryArchive) -> None:
    archive.put(
        "raw/web/2026/03/02/120000-x.json",
        b"{broken",
        content_type="application/json",
        metadata={
            "route": "segment",
            "source": "web",
            "call": "batch",
            "received-at": "2026-03-02T12:00:00Z",
            "headers": "{}",
        },
    )
    report = replay(
        "web",
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=1),
        archive=archive,
        queue=MemoryQueue(),
    )
    assert (report.objects, report.skipped) == (0, 1)


def test_parse_moment_reads_iso_and_durations() -> None:
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert parse_moment("6h", now=now) == now - timedelta(hours=6)
    assert parse_moment("2d", now=now) == now - timedelta(days=2)
    assert parse_moment("2026-03-01", now=now) == datetime(2026, 3, 1, tzinfo=UTC)
    with pytest.raises(BadRequest, match="ISO-8601"):
        parse_moment("last tuesday", now=now)


def test_replay_until_before_since_is_refused(archive: MemoryArchive) -> None:
    with pytest.raises(BadRequest):
        replay("web", NOW, NOW - timedelta(hours=1), archive=archive, queue=MemoryQueue())


def test_cli_registers_replay_with_source_since_until() -> None:
    import argparse

    from intercept.commands.ingest import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["replay", "--source", "stripe", "--since", "6h", "--until", "1h"])
    assert (args.source, args.since, args.until, args.dry_run) == ("stripe", "6h", "1h", False)
    assert callable(args.func)
    _ = basic_auth  # the sample above authenticates with the body's writeKey
