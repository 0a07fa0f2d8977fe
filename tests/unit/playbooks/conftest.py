"""Builders for scores, accounts and playbook sets used by the playbook unit tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from intercept.playbooks.config import PlaybookSet, load_playbooks
from intercept.records import Account, NextBestAction, Reason, Score

AS_OF = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


@pytest.fixture
def as_of() -> datetime:
    return AS_OF


@pytest.fixture
def make_score() -> Callable[..., Score]:
    def build(**overrides: Any) -> Score:
        values: dict[str, Any] = {
            "account_id": "acct_1",
            "as_of": AS_OF,
            "model_version": "test-model-1",
            "churn_30": 0.45,
            "churn_60": 0.55,
            "churn_90": 0.62,
            "health": 40,
            "tier": "at_risk",
            "expansion": 0.1,
            "reasons": [
                Reason(
                    signal="logins_7d",
                    value=3,
                    baseline=12,
                    effect=0.2,
                    sentence="Logins fell to 3 this week from 12 usually.",
                ),
                Reason(
                    signal="tickets_opened_high_30d",
                    value=2,
                    baseline=0,
                    effect=0.1,
                    sentence="Two urgent tickets were opened this month.",
                ),
            ],
            "next_best_action": NextBestAction(
                action="Call the admin about the drop in logins.", evidence=["logins_7d"]
            ),
        }
        values.update(overrides)
        return Score(**values)

    return build


@pytest.fixture
def make_account() -> Callable[..., Account]:
    def build(**overrides: Any) -> Account:
        values: dict[str, Any] = {
            "account_id": "acct_1",
            "name": "Acme Corp",
            "arr": 60_000.0,
            "owner": "csm@vendor.example",
            "account_executive": "ae@vendor.example",
            "traits": {"contact_email": "admin@acme.example"},
        }
        values.update(overrides)
        return Account(**values)

    return build


@pytest.fixture
def no_holdout() -> PlaybookSet:
    """The packaged playbooks with every holdout share set to zero."""
    config = load_playbooks("")
    return config.model_copy(
        update={"playbooks": [p.model_copy(update={"holdout": 0.0}) for p in config.playbooks]}
    )
