"""Actions for the dispatch unit tests, built from the sample SQS events in `events/`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from intercept.dispatch.service import parse_action
from intercept.records import Action


@pytest.fixture
def sample_action(sample_event: Callable[[str], Any]) -> Callable[..., Action]:
    """The Action carried by `events/dispatch_sqs_<channel>.json`, with optional overrides."""

    def load(channel: str = "slack", **overrides: Any) -> Action:
        event = sample_event(f"dispatch_sqs_{channel}.json")
        action = parse_action(event["Records"][0]["body"])
        return action.model_copy(update=overrides)

    return load
