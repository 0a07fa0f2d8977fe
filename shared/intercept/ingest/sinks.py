"""Where accepted requests go: raw bodies to the archive bucket, events to the IngestQueue.

Both are written before Ingest answers 2xx. Any AWS failure raises `DependencyFailure`
(503), so the sender retries and nothing is acknowledged that was not stored. The queue
writer packs several events per message (body under 240 KB), sends up to ten messages per
call, and retries entries SQS reports as failed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic_core import PydanticSerializationError

from intercept.errors import DependencyFailure
from intercept.events import CanonicalEvent
from intercept.observability import logger

MAX_MESSAGE_BYTES = 240_000
MAX_CALL_BYTES = 250_000  # a SendMessageBatch request counts in full against SQS's 256 KiB
MAX_ENTRIES = 10
SEND_ATTEMPTS = 4
_ENVELOPE = len('{"events":[]}')
_TRIMMED = "the event exceeded the queue message limit; read the raw body at archive_key"


@dataclass(frozen=True)
class ArchivedRequest:
    key: str
    body: bytes
    metadata: Mapping[str, str]


class Archive(Protocol):
    def put(
        self, key: str, body: bytes, *, content_type: str, metadata: Mapping[str, str]
    ) -> None: ...

    def keys(self, prefix: str) -> Iterator[str]: ...

    def get(self, key: str) -> ArchivedRequest: ...


class EventQueue(Protocol):
    def send(self, events: Sequence[CanonicalEvent], *, source: str) -> int: ...


def archive_key(source: str, received_at: datetime) -> str:
    """``raw/{source}/{YYYY}/{MM}/{DD}/{HHMMSS}-{uuid}.json`` (UTC), unique per request."""
    return f"raw/{source}/{received_at:%Y/%m/%d/%H%M%S}-{uuid.uuid4().hex}.json"


def _json(event: CanonicalEvent) -> str:
    """The event as JSON that SQS accepts: non-ASCII text is escaped, because SQS refuses
    some code points (U+FFFE, U+FFFF, lone surrogates) that senders can put in strings."""
    try:
        encoded = event.model_dump_json()
    except PydanticSerializationError:
        encoded = ""
    if encoded and encoded.isascii():
        return encoded
    return json.dumps(event.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":"))


def _event_json(event: CanonicalEvent) -> str:
    encoded = _json(event)
    if len(encoded) + _ENVELOPE <= MAX_MESSAGE_BYTES:
        return encoded
    logger.warning("trimmed oversized event", extra={"event_id": event.event_id})
    slim = event.model_copy(
        update={
            "traits": {},
            "account_traits": {},
            "properties": {},
            "context": {"trimmed": _TRIMMED},
        }
    )
    return _json(slim)


def pack_messages(events: Sequence[CanonicalEvent]) -> list[str]:
    """Message bodies ``{"events": [...]}``, each under `MAX_MESSAGE_BYTES`, in event order."""
    messages: list[str] = []
    current: list[str] = []
    size = _ENVELOPE
    for event in events:
        encoded = _event_json(event)
        grown = len(encoded) + (1 if current else 0)
        if current and size + grown > MAX_MESSAGE_BYTES:
            messages.append('{"events":[' + ",".join(current) + "]}")
            current, size = [], _ENVELOPE
            grown = len(encoded)
        current.append(encoded)
        size += grown
    if current:
        messages.append('{"events":[' + ",".join(current) + "]}")
    return messages


def group_calls(messages: Sequence[str]) -> list[list[str]]:
    """Messages grouped into SendMessageBatch calls (ten entries, `MAX_CALL_BYTES` at most)."""
    calls: list[list[str]] = []
    current: list[str] = []
    size = 0
    for message in messages:
        length = len(message.encode()) + 64
        if current and (len(current) == MAX_ENTRIES or size + length > MAX_CALL_BYTES):
            calls.append(current)
            current, size = [], 0
        current.append(message)
        size += length
    if current:
        calls.append(current)
    return calls


class S3Archive:
    """The archive bucket (``ARCHIVE_BUCKET``)."""

    def __init__(self, bucket: str, s3: Any) -> None:
        self.bucket = bucket
        self.s3 = s3

    def put(self, key: str, body: bytes, *, content_type: str, metadata: Mapping[str, str]) -> None:
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                Metadata=dict(metadata),
            )
        except (BotoCoreError, ClientError) as exc:
            logger.error("failed to archive request", extra={"error": type(exc).__name__})
            raise DependencyFailure("the request could not be archived; retry later") from exc

    def keys(self, prefix: str) -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def get(self, key: str) -> ArchivedRequest:
        answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        return ArchivedRequest(key=key, body=answer["Body"].read(), metadata=answer["Metadata"])


class SqsEventQueue:
    """The IngestQueue (``INGEST_QUEUE_URL``)."""

    def __init__(
        self, queue_url: str, sqs: Any, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.queue_url = queue_url
        self.sqs = sqs
        self.sleep = sleep

    def send(self, events: Sequence[CanonicalEvent], *, source: str) -> int:
        """Enqueue `events`; returns the number of messages sent.

        Raises `DependencyFailure` when any message is still unsent after the retries;
        messages sent before that stay sent (Merge dedupes redeliveries by event id).
        """
        messages = pack_messages(events)
        for call in group_calls(messages):
            self._send_call(call, source)
        return len(messages)

    def _send_call(self, bodies: list[str], source: str) -> None:
        attribute = {"source": {"DataType": "String", "StringValue": source}}
        pending = {f"m{index}": body for index, body in enumerate(bodies)}
        for attempt in range(SEND_ATTEMPTS):
            entries = [
                {"Id": entry_id, "MessageBody": body, "MessageAttributes": attribute}
                for entry_id, body in pending.items()
            ]
            try:
                answer = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as exc:
                logger.error("failed to enqueue events", extra={"error": type(exc).__name__})
                raise DependencyFailure("events could not be enqueued; retry later") from exc
            failed = {item["Id"] for item in answer.get("Failed", [])}
            pending = {entry_id: pending[entry_id] for entry_id in failed if entry_id in pending}
            if not pending:
                return
            logger.warning(
                "retrying unsent messages", extra={"messages": len(pending), "attempt": attempt + 1}
            )
            self.sleep(0.05 * 2**attempt)
        raise DependencyFailure("events could not be enqueued; retry later")
