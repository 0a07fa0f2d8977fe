"""Small seeded worlds and one model trained on them, shared by the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from intercept.model.synthetic import World, generate_world
from intercept.records import DailyActivity


@pytest.fixture(scope="session")
def small_world() -> World:
    return generate_world(seed=3, accounts=40, days=120)


@pytest.fixture(scope="session")
def training_world() -> World:
    return generate_world(seed=5, accounts=500, days=300)


@pytest.fixture(scope="session")
def training_activity(training_world: World) -> dict[str, list[DailyActivity]]:
    """The training world's records as the profile store would return them (built once)."""
    return training_world.daily_activity()


@pytest.fixture(scope="session")
def trained_dir(training_world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from intercept.model.signals import account_frame
    from intercept.model.training import train_from_cube

    out = tmp_path_factory.mktemp("model")
    frame = account_frame(training_world.accounts())
    train_from_cube(training_world.cube(), frame, out, "synthetic test world")
    return out
