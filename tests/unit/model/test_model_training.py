"""Training rows, the time split, calibration and export, and the publishing rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from intercept.model.evaluation import roc_auc
from intercept.model.signals import account_frame
from intercept.model.synthetic import World
from intercept.model.training import (
    CUTOFF_EVERY_DAYS,
    HORIZON_DAYS,
    _choose,
    build_rows,
    default_cutoffs,
    spec_from_cube,
    time_split,
)


def test_rows_hold_only_live_customers_with_the_right_labels(small_world: World) -> None:
    cube, frame = small_world.cube(), account_frame(small_world.accounts())
    cutoffs = [70, 84]
    rows = build_rows(cube, frame, spec_from_cube(cube), [], cutoffs)
    churn = small_world.churn_day
    for account, t, label in zip(rows.account, rows.cutoff, rows.labels[30], strict=True):
        assert churn[account] < 0 or churn[account] > t  # nobody after cancellation
        expected = 1.0 if 0 <= churn[account] - t <= HORIZON_DAYS else 0.0
        assert label == expected
    late = rows.labels[90][rows.cutoff == 84]
    # 84 + 90 is past the world's end: unknown unless the churn was already seen
    assert set(late[~np.isnan(late)]) <= {1.0} and np.isnan(late).any()


def test_time_split_keeps_folds_in_order_with_a_gap() -> None:
    cutoffs = default_cutoffs(420)
    cutoff = np.repeat(cutoffs, 3)
    split = time_split(cutoff, cutoffs)
    assert cutoff[split.train].max() + HORIZON_DAYS <= cutoff[split.validation].min()
    assert cutoff[split.validation].max() + HORIZON_DAYS <= cutoff[split.test].min()
    assert cutoffs[1] - cutoffs[0] == CUTOFF_EVERY_DAYS


def test_time_split_rejects_short_histories() -> None:
    with pytest.raises(ValueError, match="too little history"):
        time_split(np.array([89]), [89, 103])


def test_publishing_falls_back_to_the_scorecard() -> None:
    auc = {"gradient_boosting": 0.70, "logistic_regression": 0.72, "scorecard": 0.75}
    assert _choose(auc, (500, 100))[0] == "scorecard"
    assert _choose({**auc, "scorecard": 0.6}, (500, 100))[0] == "logistic_regression"
    published, reason = _choose({**auc, "scorecard": 0.6}, (10, 100))
    assert published == "scorecard" and "too few positives" in reason


def test_trained_model_has_a_complete_card(trained_dir: Path) -> None:
    card = json.loads((trained_dir / "model_card.json").read_text())
    assert card["published"] in {"gradient_boosting", "logistic_regression", "scorecard"}
    assert 0.5 < card["metrics"]["roc_auc"] <= 1.0
    for key in ("pr_auc", "brier", "lift_top_decile", "recall_top_decile", "calibration"):
        assert card["metrics"][key] is not None
    assert card["baselines"]["logistic_regression"]["roc_auc"] is not None
    assert card["data"]["rows"]["test"] > 0 and card["data"]["positives"]["train"] > 0
    assert card["libraries"]["scikit-learn"] and len(card["artifact"]["sha256"]) == 64
    assert (trained_dir / "model_card.md").read_text().startswith("# Model card")
    sha = (trained_dir / "model.sha256").read_text().split()[0]
    assert sha == card["artifact"]["sha256"]


def test_exported_trees_and_calibration_match_scikit_learn(training_world: World) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    from intercept.model.fitting import calibrate, fit_trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nan_to_num(x[:, 0]) + rng.normal(size=3000) > 1).astype(int)
    model, trees = fit_trees(x[:2000], y[:2000])
    np.testing.assert_allclose(trees.raw(x[2000:]), model.decision_function(x[2000:]), atol=1e-9)
    for method in ("sigmoid", "isotonic"):
        ours = calibrate(model, x[2000:2500], y[2000:2500], method)
        theirs = CalibratedClassifierCV(FrozenEstimator(model), method=method)
        theirs.fit(x[2000:2500], y[2000:2500])
        expected = theirs.predict_proba(x[2500:])[:, 1]
        np.testing.assert_allclose(ours(trees.raw(x[2500:])), expected, atol=1e-9)


def test_roc_auc_matches_scikit_learn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    score = np.round(rng.random(500), 1)
    assert roc_auc(y, score) == pytest.approx(roc_auc_score(y, score))
