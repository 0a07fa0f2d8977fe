"""Which stream records and planner messages call for a re-score, and how failures report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from intercept.scoring.service import accounts_in_stream_records, handle_batch

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _stream(pk: str, sk: str, sequence: str) -> dict[str, Any]:
    return {
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"PK": {"S": pk}, "SK": {"S": sk}}, "SequenceNumber": sequence},
    }


def test_recent_days_re_score_their_account() -> None:
    records = [
        _stream("ACCOUNT#a", "DAY#2026-12-03", "1"),
        _stream("ACCOUNT#a", "DAY#2026-11-30", "2"),
        _stream("ACCOUNT#b", "DAY#2026-12-02", "3"),
    ]

    assert accounts_in_stream_records(records, NOW) == {"a": ["1", "2"], "b": ["3"]}


def test_backfilled_days_and_other_items_wait_for_the_schedule() -> None:
    records = [
        _stream("ACCOUNT#a", "DAY#2026-11-29", "1"),
        _stream("ACCOUNT#a", "SCORE#LATEST", "2"),
        _stream("PERSON#p", "DAY#2026-12-03", "3"),
    ]

    assert accounts_in_stream_records(records, NOW) == {}


class _NeverCalled:
    version = "test"

    def score_stored(self, *args: Any) -> list[Any]:
        raise AssertionError("nothing valid was in the batch; the model must not run")


def test_unreadable_planner_message_fails_alone() -> None:
    records = [
        {"eventSource": "aws:sqs", "messageId": "m1", "body": "not json"},
        {"eventSource": "aws:sqs", "messageId": "m2", "body": '{"account_ids": ["a"]}'},
    ]

    answer = handle_batch(records, _NeverCalled(), NOW)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}


def test_scoring_reads_exactly_the_history_the_signals_use() -> None:
    from intercept.model.signals import LOOKBACK_DAYS
    from intercept.scoring.service import HISTORY_DAYS

    assert HISTORY_DAYS == LOOKBACK_DAYS
