"""The Merge stage's SQS consumer: messages in, one coalesced fold, partial failures out.

Each IngestQueue message body is ``{"events": [CanonicalEvent, ...]}``. All valid messages of
a batch are folded together, so an account-day is written once per transaction rather than
once per event. A message that cannot be parsed, or holds an event that is not a valid
canonical event, is *poison*: none of its events are folded and its id is reported as a
batch item failure, so SQS redelivers it until ``maxReceiveCount`` moves it to the DLQ
intact. If the coalesced fold fails, each message is folded on its own so one bad message
cannot hold back the rest; events folded before a failure are marked and skipped when their
message comes back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from intercept.events import CanonicalEvent
from intercept.observability import MetricUnit, logger, metrics
from intercept.profiles.fold import Folder, FoldResult
from intercept.profiles.store import ProfileStore


class PoisonMessage(ValueError):
    """A message whose body is not the IngestQueue contract; `reason` is free of PII."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class BatchOutcome:
    failures: list[str] = field(default_factory=list)
    folded: int = 0
    duplicates: int = 0
    merges: int = 0

    def response(self) -> dict[str, Any]:
        """The Lambda answer SQS reads with ``ReportBatchItemFailures``."""
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failures]}


def parse_message(body: str) -> list[CanonicalEvent]:
    """The events of one message body, or `PoisonMessage` naming what was wrong."""
    try:
        payload = json.loads(body)
    except (TypeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"body is not JSON ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise PoisonMessage('body must be an object with an "events" list')
    events = []
    for index, raw in enumerate(payload["events"]):
        try:
            events.append(CanonicalEvent.model_validate(raw))
        except ValidationError as exc:
            raise PoisonMessage(f"event {index} is not a canonical event: {_fields(exc)}") from exc
    return events


def _fields(exc: ValidationError) -> str:
    """Which fields failed and how, without the values (they may be personal data)."""
    problems = exc.errors(include_url=False, include_input=False, include_context=False)
    return ", ".join(
        f"{'.'.join(str(part) for part in p['loc']) or 'event'}: {p['type']}" for p in problems[:5]
    )


def fold_messages(records: Sequence[dict[str, Any]], folder: Folder | None = None) -> BatchOutcome:
    """Fold every valid message of an SQS batch; report poison and failed ones."""
    folder = folder or Folder(ProfileStore.from_settings())
    outcome = BatchOutcome()
    parsed: dict[str, list[CanonicalEvent]] = {}
    for record in records:
        message_id = str(record.get("messageId", ""))
        try:
            parsed[message_id] = parse_message(record.get("body", ""))
        except PoisonMessage as exc:
            logger.error(
                "rejected poison message", extra={"message_id": message_id, "reason": exc.reason}
            )
            outcome.failures.append(message_id)

    try:
        _count(outcome, folder.fold([e for events in parsed.values() for e in events]))
    except Exception:
        logger.exception("failed coalesced fold; folding messages one by one")
        _fold_each(parsed, folder, outcome)

    metrics.add_metric(name="EventsFolded", unit=MetricUnit.Count, value=outcome.folded)
    if outcome.merges:
        metrics.add_metric(name="ProfilesMerged", unit=MetricUnit.Count, value=outcome.merges)
    logger.info(
        "folded batch",
        extra={
            "messages": len(records),
            "folded": outcome.folded,
            "duplicates": outcome.duplicates,
            "merges": outcome.merges,
            "failures": len(outcome.failures),
        },
    )
    return outcome


def _fold_each(
    parsed: dict[str, list[CanonicalEvent]], folder: Folder, outcome: BatchOutcome
) -> None:
    for message_id, events in parsed.items():
        try:
            _count(outcome, folder.fold(events))
        except Exception as exc:
            logger.error(
                "failed to fold message",
                extra={"message_id": message_id, "error": type(exc).__name__},
            )
            outcome.failures.append(message_id)


def _count(outcome: BatchOutcome, result: FoldResult) -> None:
    outcome.folded += len(result.folded)
    outcome.duplicates += len(result.duplicates)
    outcome.merges += result.merges


def sqs_records(
    messages: Iterable[dict[str, Any]], source: str = "segment"
) -> list[dict[str, Any]]:
    """SQS-shaped records for message bodies (for benches, tests and local replays)."""
    return [
        {
            "messageId": f"m-{n}",
            "body": json.dumps(body),
            "messageAttributes": {"source": {"stringValue": source, "dataType": "String"}},
        }
        for n, body in enumerate(messages)
    ]
