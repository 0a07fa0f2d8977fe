"""Reason rules, picking and rounding against plain row-by-row code; records built unchecked."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intercept.model.artifact import Linear
from intercept.model.reasons import (
    FAMILIES,
    NOT_REASONS,
    REASON_WINDOWS,
    STRENGTHS,
    ReasonRules,
    pick_reasons,
    rounded,
    top_reasons,
)
from intercept.model.signals import SIGNAL_NAMES, SIGNALS

FEATURES = [*SIGNAL_NAMES, "plan=growth", "plan=starter"]


def _linear(rng: np.random.Generator, k: int) -> Linear:
    return Linear(
        impute=rng.normal(size=k),
        log_mask=rng.random(k) < 0.3,
        mean=rng.normal(size=k),
        scale=rng.uniform(0.5, 2.0, size=k),
        coef=rng.normal(size=k),
        intercept=-2.0,
    )


def _reference_effects(
    linear: Linear, x: np.ndarray, baseline: np.ndarray, features: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The rules one feature at a time."""
    z, z0 = linear.standardise(x), linear.standardise(baseline.reshape(1, -1))
    raw = linear.coef * (z - z0)
    risk, safe = np.zeros_like(raw), np.zeros_like(raw)
    for j, name in enumerate(features):
        signal = SIGNALS.get(name)
        if signal is None:
            continue
        column, base = x[:, j], baseline[j]
        present = ~np.isnan(column)
        if name not in NOT_REASONS:
            if signal.direction == "higher_is_riskier":
                side = column > base
            elif signal.direction == "lower_is_riskier":
                side = column < base
            else:
                side = present
            inside = column <= REASON_WINDOWS.get(name, np.inf)
            risk[:, j] = np.where(present & side & inside, raw[:, j], 0.0)
        if name in STRENGTHS:
            side = column > base if signal.direction == "lower_is_riskier" else column < base
            safe[:, j] = np.where(present & side, np.minimum(raw[:, j], 0.0), 0.0)
    return risk, safe


def test_reason_rules_match_the_per_feature_rules() -> None:
    rng = np.random.default_rng(7)
    k = len(FEATURES)
    linear, baseline = _linear(rng, k), rng.normal(size=k)
    x = rng.normal(size=(3000, k)) * 3
    x[rng.random(x.shape) < 0.15] = np.nan
    at_baseline = rng.random(x.shape) < 0.05
    x[at_baseline] = np.broadcast_to(baseline, x.shape)[at_baseline]
    for name, limit in REASON_WINDOWS.items():  # on, below and above each window
        baseline[FEATURES.index(name)] = 2 * limit  # all on the risky side of the baseline
        x[:300, FEATURES.index(name)] = rng.choice([limit - 1, limit, limit + 1], size=300)
    effect, protective = ReasonRules.build(linear, baseline, FEATURES).effects(x)
    expected_effect, expected_protective = _reference_effects(linear, x, baseline, FEATURES)
    np.testing.assert_array_equal(effect, expected_effect)
    np.testing.assert_array_equal(protective, expected_protective)
    assert (effect > 0).any() and (protective < 0).any()
    for name, limit in REASON_WINDOWS.items():
        column = x[:300, FEATURES.index(name)]
        risky = effect[:300, FEATURES.index(name)] != 0
        assert risky[column == limit].any() and not risky[column > limit].any()


def _reference_pick(effect: np.ndarray, features: list[str], k: int) -> list[list[int]]:
    sizes = Counter(FAMILIES.get(name, name) for name in features)
    idx, keep = top_reasons(effect, k + max(sizes.values()) - 1)
    picked = []
    for row, oks in zip(idx.tolist(), keep.tolist(), strict=True):
        seen: set[str] = set()
        chosen: list[int] = []
        for j, ok in zip(row, oks, strict=True):
            family = FAMILIES.get(features[j], features[j])
            if ok and family not in seen and len(chosen) < k:
                seen.add(family)
                chosen.append(j)
        picked.append(chosen)
    return picked


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_pick_reasons_keeps_one_reason_per_family_like_the_row_by_row_rule(k: int) -> None:
    rng = np.random.default_rng(k)
    # GIVEN effects with many ties, concentrated on the signals that share a family
    effect = rng.choice([0.0, 0.1, 0.15, 0.3, 0.3, 0.8], size=(4000, len(FEATURES)))
    family_columns = [FEATURES.index(name) for name in FAMILIES if name in FEATURES]
    effect[:, family_columns] += rng.choice([0.0, 1.0], size=(4000, len(family_columns)))
    effect[:500] = rng.choice([0.0, 0.1, 0.2], p=[0.9, 0.08, 0.02], size=(500, len(FEATURES)))
    # THEN the vectorised pick is the row-by-row one
    picked = pick_reasons(effect, FEATURES, k)
    assert picked == _reference_pick(effect, FEATURES, k)
    families = [[FAMILIES.get(FEATURES[j], FEATURES[j]) for j in row] for row in picked]
    assert all(len(set(f)) == len(f) <= k for f in families)
    assert any(len(row) < k for row in picked) and any(len(row) == k for row in picked)
    idx, keep = top_reasons(effect, k + 1)
    kept_families = [
        [FAMILIES.get(FEATURES[j], FEATURES[j]) for j, ok in zip(r, o, strict=True) if ok]
        for r, o in zip(idx.tolist(), keep.tolist(), strict=True)
    ]
    assert any(len(set(f)) < len(f) for f in kept_families)  # families were merged


def test_a_family_holding_the_strongest_effects_still_leaves_room_for_k_reasons() -> None:
    # GIVEN an account whose three strongest effects are one family (a key person gone)
    effect = np.zeros((1, len(FEATURES)))
    for rank, name in enumerate(
        [
            "key_person_surprise",
            "key_person_gap_days",
            "champion_inactive_days",
            "tickets_30d",
            "login_trend",
        ]
    ):
        effect[0, FEATURES.index(name)] = 2.0 - 0.3 * rank
    # THEN that family gives one reason and the next two signals fill the other places
    [picked] = pick_reasons(effect, FEATURES, 3)
    assert [FEATURES[j] for j in picked] == ["key_person_surprise", "tickets_30d", "login_trend"]


def test_rounded_equals_python_round_next_to_half_way_points() -> None:
    rng = np.random.default_rng(0)
    halves = (np.arange(-30000, 30000) + 0.5) / 1e4
    values = np.concatenate(
        [
            halves,
            np.nextafter(halves, np.inf),
            np.nextafter(halves, -np.inf),
            rng.uniform(-5, 5, 20000),
            rng.normal(0, 1e3, 5000),
            [0.0, -0.0, -0.00004, 2.675, 1e20, -3e15, 5e11 + 0.00005, np.inf, -np.inf, np.nan],
        ]
    )
    for digits in (2, 4):
        expected = [repr(round(v, digits)) for v in values.tolist()]
        assert [repr(v) for v in rounded(values, digits)] == expected


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_rounded_equals_python_round(value: float) -> None:
    assert repr(rounded(np.array([value]))[0]) == repr(round(value, 4))


def _walk(value: object) -> list[type]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in _walk(v)]
    if isinstance(value, list):
        return [t for v in value for t in _walk(v)]
    return [type(value)]
