"""In-memory stand-ins for the archive bucket and the IngestQueue, and shared test values."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from intercept.errors import DependencyFailure
from intercept.events import CanonicalEvent
from intercept.ingest.sinks import ArchivedRequest, pack_messages
from intercept.secrets import Secrets

# Characters SQS does not accept in a message body.
SQS_REFUSED = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WRITE_KEY = "wk_unit_web"
SECRETS = Secrets(
    write_keys={WRITE_KEY: "web", "wk_unit_backend": "backend"},
    webhook_secrets={
        "stripe": ["whsec_unit_current", "whsec_unit_previous"],
        "zendesk": ["zendesk-unit-secret"],
        "hubspot": ["hubspot-unit-secret"],
        "intercom": ["intercom-unit-secret"],
        "generic_github": ["github-unit-secret"],
    },
)


@dataclass
class MemoryArchive:
    objects: dict[str, ArchivedRequest] = field(default_factory=dict)
    fail: bool = False

    def put(self, key: str, body: bytes, *, content_type: str, metadata: Mapping[str, str]) -> None:
        if self.fail:
            raise DependencyFailure("the request could not be archived; retry later")
        self.objects[key] = ArchivedRequest(key=key, body=body, metadata=dict(metadata))

    def keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(key for key in self.objects if key.startswith(prefix)))

    def get(self, key: str) -> ArchivedRequest:
        return self.objects[key]


@dataclass
class MemoryQueue:
    sent: list[tuple[str, list[CanonicalEvent]]] = field(default_factory=list)
    fail: bool = False

    def send(self, events: Sequence[CanonicalEvent], *, source: str) -> int:
        """Packs the events as the SQS writer does and checks SQS's content rules."""
        if self.fail:
            raise DependencyFailure("events could not be enqueued; retry later")
        messages = pack_messages(events)
        for message in messages:
            assert len(message.encode()) < 240_000
            assert not SQS_REFUSED.search(message), "SQS refuses characters in this message"
            json.loads(message)
        self.sent.append((source, list(events)))
        return len(messages)

    @property
    def events(self) -> list[CanonicalEvent]:
        return [event for _, batch in self.sent for event in batch]


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


def body_of(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"])
