"""Fitting the estimators and exporting them to the numpy components of the artifact."""

from __future__ import annotations

from typing import Any

import numpy as np

from intercept.model.artifact import Calibrator, Linear, Scorecard, Trees
from intercept.model.evaluation import roc_auc

SCORECARD_BINS = 10
SCORECARD_SMOOTHING = 20.0


def _one_thread() -> Any:
    """Prediction on small folds: OpenMP start-up costs more than it saves, so use one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def fit_linear(x: np.ndarray, y: np.ndarray, log_mask: np.ndarray, c: float = 0.5) -> Linear:
    """Logistic regression on imputed, log-scaled (where flagged) and standardised columns."""
    from sklearn.linear_model import LogisticRegression

    with np.errstate(all="ignore"):
        impute = np.nan_to_num(np.nanmedian(np.where(np.isnan(x), np.nan, x), axis=0), nan=0.0)
    shell = Linear(
        impute, log_mask, np.zeros(x.shape[1]), np.ones(x.shape[1]), np.zeros(x.shape[1]), 0.0
    )
    z = shell.standardise(x)
    mean = z.mean(axis=0)
    scale = z.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit((z - mean) / scale, y)
    return Linear(impute, log_mask, mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def fit_linear_on(base: Linear, x: np.ndarray, y: np.ndarray, c: float = 0.5) -> Linear:
    """Another logistic model sharing `base`'s preprocessing (for the expansion view)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000).fit(base.standardise(x), y)
    return Linear(
        base.impute,
        base.log_mask,
        base.mean,
        base.scale,
        model.coef_[0].copy(),
        float(model.intercept_[0]),
    )


def fit_trees(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[Any, Trees]:
    """Histogram gradient boosting, exported to flat node arrays (checked against sklearn)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=7,
        max_depth=3,
        min_samples_leaf=100,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    model.fit(x, y)
    trees = export_trees(model)
    probe = x[: min(len(x), 2000)]
    with _one_thread():
        expected = model.decision_function(probe)
    if not np.allclose(trees.raw(probe), expected, atol=1e-8):
        raise RuntimeError("exported trees disagree with scikit-learn; the tree layout changed")
    return model, trees


def export_trees(model: Any) -> Trees:
    nodes = [predictors[0].nodes for predictors in model._predictors]
    sizes = np.array([len(n) for n in nodes])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    allnodes = np.concatenate(nodes)
    shift = np.repeat(offsets, sizes)
    if allnodes["is_categorical"].any():
        raise RuntimeError("categorical splits cannot be exported; one-hot encode instead")
    return Trees(
        feature=allnodes["feature_idx"].astype(np.int32),
        threshold=allnodes["num_threshold"].astype(float),
        left=(allnodes["left"].astype(np.int64) + shift).astype(np.int32),
        right=(allnodes["right"].astype(np.int64) + shift).astype(np.int32),
        value=allnodes["value"].astype(float),
        missing_left=allnodes["missing_go_to_left"].astype(bool),
        is_leaf=allnodes["is_leaf"].astype(bool),
        roots=offsets.astype(np.int32),
        depth=int(allnodes["depth"].max()),
        baseline=float(np.ravel(model._baseline_prediction)[0]),
    )


def calibrate(estimator: Any, x: np.ndarray, y: np.ndarray, method: str) -> Calibrator:
    """Calibrate a fitted estimator on a later fold (scikit-learn's CalibratedClassifierCV)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    with _one_thread():
        calibrated = CalibratedClassifierCV(FrozenEstimator(estimator), method=method).fit(x, y)
    fitted = calibrated.calibrated_classifiers_[0].calibrators[0]
    if method == "sigmoid":
        return Calibrator("sigmoid", a=float(fitted.a_), b=float(fitted.b_))
    return Calibrator(
        "isotonic",
        x=np.asarray(fitted.X_thresholds_, float),
        y=np.asarray(fitted.y_thresholds_, float),
    )


def platt(raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """A sigmoid map from a one-dimensional score to a probability."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4, max_iter=2000).fit(raw.reshape(-1, 1), y)
    return Calibrator("sigmoid", a=-float(model.coef_[0, 0]), b=-float(model.intercept_[0]))


def linear_estimator(linear: Linear) -> Any:
    """A scikit-learn LogisticRegression carrying `linear`'s coefficients (for calibration)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression()
    model.classes_ = np.array([0, 1])
    model.coef_ = linear.coef.reshape(1, -1)
    model.intercept_ = np.array([linear.intercept])
    model.n_features_in_ = len(linear.coef)
    return model


def fit_scorecard(x: np.ndarray, y: np.ndarray) -> tuple[Scorecard, np.ndarray]:
    """Decile bins per column, smoothed churn rate per bin, weights from each column's Gini.

    Returns the scorecard and the measured Gini (2 x AUC - 1) of every column.
    """
    n, k = x.shape
    n_edges = SCORECARD_BINS - 1
    base = float(y.mean()) if n else 0.0
    edges = np.full((k, n_edges), np.inf)
    risk = np.zeros((k, n_edges + 2))
    gini = np.zeros(k)
    for j in range(k):
        column = x[:, j]
        present = ~np.isnan(column)
        if present.any():
            cuts = np.unique(
                np.quantile(column[present], np.linspace(0, 1, SCORECARD_BINS + 1)[1:-1])
            )
            edges[j, : len(cuts)] = cuts
        idx = np.searchsorted(edges[j], column, side="right")
        idx = np.where(present, np.minimum(idx, n_edges), n_edges + 1)
        count = np.bincount(idx, minlength=n_edges + 2).astype(float)
        hits = np.bincount(idx, weights=y.astype(float), minlength=n_edges + 2)
        rate = (hits + SCORECARD_SMOOTHING * base) / (count + SCORECARD_SMOOTHING)
        used = count > 0
        lo, hi = rate[used].min(), rate[used].max()
        risk[j] = np.where(used, (rate - lo) / (hi - lo), 0.5) if hi > lo else 0.0
        gini[j] = max(2 * roc_auc(y, rate[idx]) - 1, 0.0) if hi > lo else 0.0
    weights = gini / gini.sum() if gini.sum() > 0 else np.full(k, 1.0 / max(k, 1))
    return Scorecard(edges, risk, weights), gini
