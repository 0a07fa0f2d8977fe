"""The archive bucket and IngestQueue of the deployment, with clients made on first use.

A request refused before anything is stored (401, 4xx) never pays for creating the S3 and
SQS clients; that keeps the ingest function's cold start small.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property

from intercept.events import CanonicalEvent
from intercept.ingest.sinks import ArchivedRequest, S3Archive, SqsEventQueue
from intercept.settings import get_settings


class LazyS3Archive:
    """`S3Archive` on ``ARCHIVE_BUCKET`` with the package's cached S3 client."""

    @cached_property
    def _archive(self) -> S3Archive:
        from intercept.aws import client

        return S3Archive(get_settings().require("archive_bucket"), client("s3"))

    def put(self, key: str, body: bytes, *, content_type: str, metadata: Mapping[str, str]) -> None:
        self._archive.put(key, body, content_type=content_type, metadata=metadata)

    def keys(self, prefix: str) -> Iterator[str]:
        return self._archive.keys(prefix)

    def get(self, key: str) -> ArchivedRequest:
        return self._archive.get(key)


class LazySqsEventQueue:
    """`SqsEventQueue` on ``INGEST_QUEUE_URL`` with the package's cached SQS client."""

    @cached_property
    def _queue(self) -> SqsEventQueue:
        from intercept.aws import client

        return SqsEventQueue(get_settings().require("ingest_queue_url"), client("sqs"))

    def send(self, events: Sequence[CanonicalEvent], *, source: str) -> int:
        return self._queue.send(events, source=source)
