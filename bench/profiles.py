"""Profile-stage figures: Merge throughput, DynamoDB requests per event, exactly-once checks.

- ``merge_events_per_s``: a seeded, real-shaped stream (20 accounts x 6 people, 2,000 events
  over 3 days: anonymous visits, identify and group calls, product usage, Stripe billing,
  Zendesk tickets, HubSpot changes), delivered roughly in time order with local disorder
  (shuffled within windows of 50, as a queue delivers), one event per SQS message, through
  ``functions/merge/app.handler`` in batches of 100 messages, moto in-process; events per
  second of wall time. moto's transactions roll back item by item (the local
  runtime's `moto_speedups`, as in `intercept serve`): its own deep copy of every table per
  transaction would otherwise dominate the figure and grow with the table.
- ``merge_moto_time_share``: the share of that wall time spent inside moto's request
  handling, i.e. what a real DynamoDB endpoint would replace with network latency.
- ``ddb_write_requests_per_event_batch10`` / ``_batch100``: DynamoDB write requests (PutItem,
  UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) per event for the whole
  stream in batches of 10 / 100, counted with botocore ``before-call.dynamodb`` hooks.
- ``ddb_read_requests_per_event_batch100``: GetItem, BatchGetItem, Query, Scan and
  TransactGetItems requests per event.
- ``ddb_write_items_per_event_batch100``: items written per event (each transaction item
  and each single write); capacity is billed per item (x2 inside transactions).
- ``merges_per_1000_events``: person and account merges written for the stream.
- ``dup_perm_cases`` / ``dup_perm_differences``: seeded streams delivered one to three times
  per event, shuffled and re-batched, compared with an in-order delivery (differing paths).
- ``concurrency_workers`` / ``concurrency_differences`` / ``concurrency_redeliveries``: eight
  threads with clients of their own folding overlapping batches against moto's server mode,
  compared with one worker; redeliveries are batches put back after contention.
- ``cold_import_seconds_merge``: median of five fresh interpreters importing the handler.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STREAM = {"seed": 2024, "events": 2000, "companies": 20, "people": 6, "days": 3}
DISORDER_WINDOW = 50
DUP_PERM_CASES = 50
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}


class Requests:
    """Counts DynamoDB requests and written items through botocore's event hooks."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        """A `before-call.dynamodb` hook: `params` is the serialized request."""
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            body = json.loads(params["body"])
            self.items += sum(1 for i in body["TransactItems"] if "ConditionCheck" not in i)
        elif model.name == "BatchWriteItem":
            body = json.loads(params["body"])
            self.items += sum(len(v) for v in body["RequestItems"].values())
        elif model.name in WRITES:
            self.items += 1

    def total(self, names: set[str]) -> int:
        return sum(n for name, n in self.calls.items() if name in names)


@contextlib.contextmanager
def merge_on_moto() -> Iterator[tuple[Any, Any]]:
    """The Merge handler with its tables in moto; yields (handler, dynamodb client)."""
    import runpy

    from moto import mock_aws

    from intercept.aws import client, reset_clients
    from intercept.profiles.verify import create_tables, fast_moto_transactions
    from intercept.settings import reset_settings

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PROFILES_TABLE": "profiles",
            "IDEMPOTENCY_TABLE": "idempotency",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    reset_clients()
    reset_settings()
    with fast_moto_transactions(), mock_aws():
        dynamodb = client("dynamodb")
        create_tables(dynamodb, ROOT, "profiles", "idempotency")
        handler = runpy.run_path(str(ROOT / "functions/merge/app.py"))["handler"]
        yield handler, dynamodb
    reset_clients()
    reset_settings()


class _Context:
    function_name = "MergeFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:merge"
    aws_request_id = "bench"


def delivery_order(events: list[Any]) -> list[Any]:
    """Time order with local disorder: shuffled within consecutive windows."""
    rng = random.Random(7)
    ordered = sorted(events, key=lambda e: e.occurred_at)
    delivered: list[Any] = []
    for start in range(0, len(ordered), DISORDER_WINDOW):
        window = ordered[start : start + DISORDER_WINDOW]
        rng.shuffle(window)
        delivered.extend(window)
    return delivered


def fold_stream(batch_size: int) -> dict[str, Any]:
    """Deliver the stream through the handler in SQS batches; time and count requests."""
    from moto.core.botocore_stubber import BotocoreStubber

    from intercept.profiles.consumer import sqs_records
    from intercept.profiles.verify import sample_stream

    events = delivery_order(sample_stream(**STREAM))  # type: ignore[arg-type]
    bodies = [{"events": [e.model_dump(mode="json")]} for e in events]
    requests = Requests()
    in_moto = [0.0]
    original = BotocoreStubber.__call__

    def timed(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, event_name, request, **kwargs)
        finally:
            in_moto[0] += time.perf_counter() - started

    with merge_on_moto() as (handler, dynamodb):
        dynamodb.meta.events.register("before-call.dynamodb", requests)
        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]
        failures = 0
        started = time.perf_counter()
        try:
            for start in range(0, len(bodies), batch_size):
                records = sqs_records(bodies[start : start + batch_size])
                answer = handler({"Records": records}, _Context())
                failures += len(answer["batchItemFailures"])
        finally:
            BotocoreStubber.__call__ = original  # type: ignore[method-assign]
        seconds = time.perf_counter() - started
        merges = sum(
            1
            for item in dynamodb.scan(TableName="profiles", Select="ALL_ATTRIBUTES")["Items"]
            if item["PK"]["S"].startswith("MERGE#")
        )
    return {
        "events": len(events),
        "seconds": seconds,
        "moto_share": in_moto[0] / seconds,
        "writes": requests.total(WRITES),
        "reads": requests.total(READS),
        "items": requests.items,
        "merges": merges,
        "failures": failures,
        "calls": dict(requests.calls),
    }


def dup_perm(cases: int) -> tuple[int, int]:
    """Cases run and differing paths found between duplicated/shuffled and ordered delivery."""
    from moto import mock_aws

    from intercept.aws import client, reset_clients
    from intercept.profiles.fold import Folder
    from intercept.profiles.store import ProfileStore
    from intercept.profiles.verify import (
        create_tables,
        differences,
        fast_moto_transactions,
        sample_stream,
        snapshot,
    )

    found = 0
    reset_clients()
    with fast_moto_transactions(), mock_aws():
        dynamodb = client("dynamodb")
        for case in range(cases):
            rng = random.Random(case)
            events = sample_stream(100 + case, events=60)
            deliveries = [e for e in events for _ in range(rng.randint(1, 3))]
            rng.shuffle(deliveries)
            snapshots = []
            for name, stream in (("ordered", events), ("shuffled", deliveries)):
                table = f"{name}-{case}"
                create_tables(dynamodb, ROOT, table, f"{table}-marks")
                store = ProfileStore(table, f"{table}-marks", client=dynamodb)
                start = 0
                while start < len(stream):
                    size = 25 if name == "ordered" else rng.randint(1, 40)
                    Folder(store).fold(stream[start : start + size])
                    start += size
                snapshots.append(snapshot(dynamodb, table))
            found += len(differences(*snapshots, limit=1000)) + len(snapshots[1]["problems"])
    reset_clients()
    return cases, found


def concurrency() -> dict[str, Any]:
    from intercept.profiles.verify import concurrent_fold, sample_stream

    events = sample_stream(21, events=120, companies=2, people=4)
    return concurrent_fold(events, ROOT, workers=8, batch_size=8, seed=21)


def cold_import_seconds() -> float:
    probe = (
        "import sys, time; sys.path[:0] = ['functions/merge', 'shared']; "
        "t = time.perf_counter(); import app; print(time.perf_counter() - t)"
    )
    runs = []
    for attempt in range(6):
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
        )
        if attempt:
            runs.append(float(done.stdout.strip()))
    return round(statistics.median(runs), 3)


def run() -> dict[str, float | int | str]:
    from intercept.observability import logger

    logger.setLevel("WARNING")
    with contextlib.redirect_stdout(io.StringIO()):
        big = fold_stream(100)
        small = fold_stream(10)
        cases, found = dup_perm(DUP_PERM_CASES)
        together = concurrency()
    events = big["events"]
    return {
        "merge_events_per_s": round(events / big["seconds"], 1),
        "merge_moto_time_share": round(big["moto_share"], 3),
        "ddb_write_requests_per_event_batch10": round(small["writes"] / events, 3),
        "ddb_write_requests_per_event_batch100": round(big["writes"] / events, 3),
        "ddb_read_requests_per_event_batch100": round(big["reads"] / events, 3),
        "ddb_write_items_per_event_batch100": round(big["items"] / events, 3),
        "merges_per_1000_events": round(1000 * big["merges"] / events, 1),
        "merge_batch_failures": big["failures"] + small["failures"],
        "ddb_requests_batch100": json.dumps(big["calls"], sort_keys=True),
        "dup_perm_cases": cases,
        "dup_perm_differences": found,
        "concurrency_workers": together["workers"],
        "concurrency_differences": len(together["differences"]) + len(together["problems"]),
        "concurrency_redeliveries": together["redeliveries"],
        "cold_import_seconds_merge": cold_import_seconds(),
    }


if __name__ == "__main__":
    for name, figure in run().items():
        print(f"{name} = {figure}")
