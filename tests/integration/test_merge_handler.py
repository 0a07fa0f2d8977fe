"""The Merge Lambda handler: SQS batches, partial failures, poison messages, cold imports."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from intercept.events import CanonicalEvent
from intercept.profiles.consumer import fold_messages, sqs_records
from intercept.profiles.fold import Folder, FoldResult
from intercept.profiles.keys import Identifier
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import make_event

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2024, 5, 2)


@dataclass
class Context:
    function_name: str = "MergeFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:merge"
    aws_request_id: str = "req-1"


def _load_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("merge_app", ROOT / "functions/merge/app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler  # type: ignore[no-any-return]


def _body(*events: CanonicalEvent) -> dict[str, Any]:
    return {"events": [e.model_dump(mode="json") for e in events]}


def test_sample_event_folds_and_redelivery_counts_once(
    store: ProfileStore, sample_event: Callable[[str], Any]
) -> None:
    handler = _load_handler()
    event = sample_event("merge_sqs.json")
    assert handler(event, Context()) == {"batchItemFailures": []}
    assert handler(event, Context()) == {"batchItemFailures": []}
    account = store.get_account("acme")
    assert account is not None
    assert (account.name, account.plan, account.mrr, account.status) == (
        "Acme Inc",
        "growth",
        1250.0,
        "past_due",
    )
    (day,) = store.get_daily_activity("acme", DAY, DAY)
    assert (day.events, day.payment_failures, day.seats, day.modules) == (1, 1, 25, {"reports": 1})
    person = store.find("person", Identifier("email", "ana.lima@acme.io"))
    assert person is not None and person.accounts == {"acme"}


def test_poison_message_is_reported_and_others_fold(
    store: ProfileStore, caplog: pytest.LogCaptureFixture
) -> None:
    good = _body(make_event(0, person={"user_id": "u1"}, account={"group_id": "acme"}))
    broken = {
        "events": [
            {
                "event_id": "e-x",
                "source": "web",
                "kind": "track",
                "person": {"email": "secret.person@acme.io"},
                "occurred_at": "not a time",
                "received_at": "2024-05-01T00:00:00Z",
            }
        ]
    }
    records = sqs_records([good, broken, "not even an object"])
    records[2]["body"] = "{{{"

    answer = _load_handler()({"Records": records}, Context())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    assert store.find("person", Identifier("user_id", "u1")) is not None
    rejected = [r for r in caplog.records if r.getMessage() == "rejected poison message"]
    assert [getattr(r, "reason", "") for r in rejected] == [
        "event 0 is not a canonical event: occurred_at: datetime_from_date_parsing",
        "body is not JSON (JSONDecodeError)",
    ]
    assert "secret.person" not in repr([r.__dict__ for r in caplog.records])


class Exploding(Folder):
    """Fails any fold that contains the event id "boom", as a broken write would."""

    def fold(self, events: Sequence[CanonicalEvent]) -> FoldResult:
        if any(e.event_id == "boom" for e in events):
            raise RuntimeError("write refused")
        return super().fold(events)


def test_failed_coalesced_fold_falls_back_to_one_message_at_a_time(store: ProfileStore) -> None:
    records = sqs_records(
        [
            _body(make_event(0, person={"user_id": "u1"}, account={"group_id": "acme"})),
            _body(make_event(1, event_id="boom", person={"user_id": "u2"})),
            _body(make_event(2, person={"user_id": "u3"}, account={"group_id": "acme"})),
        ]
    )
    outcome = fold_messages(records, Exploding(store))
    assert outcome.failures == ["m-1"] and outcome.folded == 2
    assert len(store.members("acme")) == 2


def test_handler_cold_import_stays_light() -> None:
    probe = (
        "import sys, runpy; sys.path[:0] = ['functions/merge', 'shared']; import app; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'numpy', 'sklearn', 'scipy', 'moto', 'pandas', 'matplotlib', 'rich', 'joblib'}); "
        "print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


def test_sample_event_is_the_ingest_queue_contract(sample_event: Callable[[str], Any]) -> None:
    record = sample_event("merge_sqs.json")["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["messageAttributes"]["source"]["stringValue"] == "segment"
    assert len(json.loads(record["body"])["events"]) == 4
