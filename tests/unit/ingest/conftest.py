"""Fixtures of the ingest unit tests: in-memory archive and queue, a frozen clock."""

from __future__ import annotations

import pytest
from ingest_support import SECRETS, Clock, MemoryArchive, MemoryQueue

from intercept.ingest.service import Dependencies


@pytest.fixture
def archive() -> MemoryArchive:
    return MemoryArchive()


@pytest.fixture
def queue() -> MemoryQueue:
    return MemoryQueue()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deps(archive: MemoryArchive, queue: MemoryQueue, clock: Clock) -> Dependencies:
    return Dependencies(archive=archive, queue=queue, secrets=lambda: SECRETS, clock=clock)
