"""Fixtures shared by the integration tests: tables as template.yaml declares them, on moto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from intercept.aws import client
from intercept.local.template import load_template
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import create_tables, fast_moto_transactions
from intercept.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProfileStore]:
    """A profile store over fresh `profiles` and `idempotency` tables (no streams)."""
    monkeypatch.setenv("PROFILES_TABLE", "profiles")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    reset_settings()
    with fast_moto_transactions():
        create_tables(client("dynamodb"), ROOT, "profiles", "idempotency")
        yield ProfileStore.from_settings()


@pytest.fixture
def create_table(aws: None) -> Callable[[str, str], None]:
    """Create a table by its template.yaml logical id (keys and indexes) under a given name."""

    def create(logical_id: str, name: str) -> None:
        properties = load_template(ROOT / "template.yaml")["Resources"][logical_id]["Properties"]
        extra = {}
        if properties.get("GlobalSecondaryIndexes"):
            extra["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        boto3.client("dynamodb").create_table(
            TableName=name,
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )

    return create
