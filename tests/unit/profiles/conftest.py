"""Fixtures for the profile stage's unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from intercept.events import CanonicalEvent
from intercept.profiles.verify import make_event


@pytest.fixture
def event() -> Callable[..., CanonicalEvent]:
    return make_event
