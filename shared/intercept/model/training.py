"""Point-in-time training rows, a time split, the candidate models and the publishing rule.

Rows: every 14 days (a cutoff T) each account that is a customer on T gives one row of
signals as of T; its label is whether it churned within 30 days after T (60 and 90 for the
hazard view). Cutoffs are split by time — the oldest train the models, the next calibrate
them and choose between them, the latest are held out for the card — with a 30-day gap so no
label window reaches into a later fold.

Candidates: a logistic-regression baseline, histogram gradient boosting, and the rules
scorecard. The best of the first two on the validation fold is published if it beats the
scorecard there and there are enough positives; otherwise the scorecard is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from intercept.model.artifact import Linear, Predictor, pack_spec
from intercept.model.card import write_model
from intercept.model.evaluation import roc_auc, summarise
from intercept.model.fitting import (
    calibrate,
    fit_linear,
    fit_linear_on,
    fit_scorecard,
    fit_trees,
    linear_estimator,
    platt,
)
from intercept.model.signals import (
    CATALOG,
    LOOKBACK_DAYS,
    SIGNAL_NAMES,
    AccountFrame,
    ActivityCube,
    SignalSpec,
    account_frame,
    compute_signals,
    cube_from_records,
)
from intercept.records import Account, DailyActivity

CUTOFF_EVERY_DAYS = 14
HORIZON_DAYS = 30
HAZARD_HORIZONS = (30, 60, 90)
EXPANSION_HORIZON_DAYS = 60
MIN_TRAIN_POSITIVES = 50
MIN_TEST_POSITIVES = 20
TIER_MULTIPLES = {"watch": 1.0, "at_risk": 2.5, "critical": 5.0}
"""Tier thresholds as multiples of the training base rate of 30-day churn."""


@dataclass
class Rows:
    """Training rows: features (n, k), labels per horizon (NaN when censored), cutoffs."""

    x: np.ndarray
    features: list[str]
    labels: dict[int, np.ndarray]
    expansion: np.ndarray
    cutoff: np.ndarray
    account: np.ndarray
    start: date


def feature_names(plans: Sequence[str]) -> list[str]:
    return [*SIGNAL_NAMES, *(f"plan={p}" for p in plans)]


def plan_indicators(plan: Sequence[str], plans: Sequence[str]) -> np.ndarray:
    if not plans:
        return np.zeros((len(plan), 0))
    out: np.ndarray = (
        np.array(plan, dtype=object)[:, None] == np.array(plans, dtype=object)[None, :]
    ).astype(float)
    return out


def log_mask(features: Sequence[str]) -> np.ndarray:
    logged = {s.name for s in CATALOG if s.log_scale}
    return np.array([name in logged for name in features], dtype=bool)


def spec_from_cube(cube: ActivityCube) -> SignalSpec:
    """Core modules = used by at least half of the accounts that use any module."""
    if not cube.modules:
        return SignalSpec((), tuple(cube.steps))
    used = cube.module_use.sum(axis=1) > 0
    users = used.any(axis=1)
    share = used[users].mean(axis=0) if users.any() else np.zeros(len(cube.modules))
    core = tuple(name for name, s in zip(cube.modules, share.tolist(), strict=True) if s >= 0.5)
    return SignalSpec(core, tuple(sorted(cube.steps)))


def _forward_seats(cube: ActivityCube, frame: AccountFrame) -> np.ndarray:
    seats = cube.seats
    idx = np.where(~np.isnan(seats), np.arange(seats.shape[1])[None, :], -1)
    np.maximum.accumulate(idx, axis=1, out=idx)
    filled = seats[np.arange(seats.shape[0])[:, None], np.maximum(idx, 0)]
    return np.where(idx >= 0, filled, frame.seats[:, None])


def build_rows(
    cube: ActivityCube,
    frame: AccountFrame,
    spec: SignalSpec,
    plans: Sequence[str],
    cutoffs: Sequence[int],
) -> Rows:
    """One row per (cutoff, account that is a customer on the cutoff day)."""
    end = cube.n_days - 1
    start_ord = cube.start.toordinal()
    seats_ff = _forward_seats(cube, frame)
    first_active = _first_activity(cube)
    xs: list[np.ndarray] = []
    labels: dict[int, list[np.ndarray]] = {h: [] for h in HAZARD_HORIZONS}
    expansion: list[np.ndarray] = []
    cut: list[np.ndarray] = []
    acc: list[np.ndarray] = []
    for t in cutoffs:
        t_ord = start_ord + t
        since = np.where(np.isnan(frame.first_seen), first_active + start_ord, frame.first_seen)
        alive = (since <= t_ord) & ~(frame.canceled <= t_ord)
        idx = np.nonzero(alive)[0]
        if idx.size == 0:
            continue
        signals = compute_signals(cube, frame, t, spec)
        xs.append(np.hstack([signals.values, plan_indicators(signals.plan, plans)])[idx])
        for h in HAZARD_HORIZONS:
            hit = (frame.canceled[idx] > t_ord) & (frame.canceled[idx] <= t_ord + h)
            labels[h].append(np.where(hit, 1.0, np.where(t + h <= end, 0.0, np.nan)))
        if t + EXPANSION_HORIZON_DAYS <= end:
            grew = seats_ff[idx, t + EXPANSION_HORIZON_DAYS] > seats_ff[idx, t]
            expansion.append(grew.astype(float))
        else:
            expansion.append(np.full(idx.size, np.nan))
        cut.append(np.full(idx.size, t))
        acc.append(idx)
    k = len(SIGNAL_NAMES) + len(plans)
    return Rows(
        x=np.vstack(xs) if xs else np.zeros((0, k)),
        features=feature_names(plans),
        labels={h: np.concatenate(v) if v else np.zeros(0) for h, v in labels.items()},
        expansion=np.concatenate(expansion) if expansion else np.zeros(0),
        cutoff=np.concatenate(cut) if cut else np.zeros(0, dtype=int),
        account=np.concatenate(acc) if acc else np.zeros(0, dtype=int),
        start=cube.start,
    )


def _first_activity(cube: ActivityCube) -> np.ndarray:
    active = np.zeros((len(cube.account_ids), cube.n_days), dtype=bool)
    for name, values in cube.counters.items():
        if name != "people_count":
            active |= values > 0
    return np.where(active.any(axis=1), active.argmax(axis=1), cube.n_days + 1).astype(float)


def default_cutoffs(n_days: int) -> list[int]:
    """Every 14 days from the first day with a full lookback to the last labelled day."""
    first = LOOKBACK_DAYS - 1
    last = n_days - 1 - HORIZON_DAYS
    return list(range(first, last + 1, CUTOFF_EVERY_DAYS))


@dataclass
class Split:
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    hazard_train: np.ndarray


def time_split(cutoff: np.ndarray, cutoffs: Sequence[int]) -> Split:
    """Latest quarter of cutoffs tests; the fifth before validates; older ones train.

    A 30-day gap separates the folds, so no label window reaches into a later fold.
    """
    ordered = sorted(cutoffs)
    n_test = max(1, round(len(ordered) * 0.25))
    n_val = max(1, round(len(ordered) * 0.2))
    first_test = ordered[len(ordered) - n_test]
    before_test = [c for c in ordered if c + HORIZON_DAYS <= first_test]
    validation_cutoffs = before_test[-n_val:]
    train_cutoffs = [
        c for c in before_test if validation_cutoffs and c + HORIZON_DAYS <= validation_cutoffs[0]
    ]
    if not train_cutoffs:
        days = LOOKBACK_DAYS + HORIZON_DAYS + 8 * CUTOFF_EVERY_DAYS
        raise ValueError(
            f"too little history for a time split: {len(ordered)} cutoffs of {CUTOFF_EVERY_DAYS} "
            f"days leave no training fold; at least 5 cutoffs are needed (about {days} days)"
        )
    first_val = validation_cutoffs[0]
    train = cutoff + HORIZON_DAYS <= first_val
    validation = (cutoff >= first_val) & (cutoff <= validation_cutoffs[-1])
    test = cutoff >= first_test
    hazard = cutoff + HAZARD_HORIZONS[-1] <= first_test
    return Split(train, validation, test, hazard)


# ---------------------------------------------------------------- fitting


@dataclass
class Fitted:
    arrays: dict[str, np.ndarray]
    card: dict[str, Any]
    predictor: Predictor


def _choose(val_auc: dict[str, float], positives: tuple[int, int]) -> tuple[str, str]:
    train_pos, test_pos = positives
    if train_pos < MIN_TRAIN_POSITIVES or test_pos < MIN_TEST_POSITIVES:
        return "scorecard", (
            f"too few positives to publish a learned model ({train_pos} in training, {test_pos} "
            f"held out; at least {MIN_TRAIN_POSITIVES} and {MIN_TEST_POSITIVES} are needed)"
        )
    best = max(("gradient_boosting", "logistic_regression"), key=lambda k: val_auc.get(k, -1.0))
    other = "logistic_regression" if best == "gradient_boosting" else "gradient_boosting"
    if not val_auc[best] > val_auc["scorecard"]:
        return "scorecard", (
            f"the best learned model ({best}, validation ROC AUC {val_auc[best]:.3f}) "
            "does not beat "
            f"the rules scorecard ({val_auc['scorecard']:.3f})"
        )
    return best, (
        f"{best} has the best validation ROC AUC ({val_auc[best]:.3f} vs {other} "
        f"{val_auc[other]:.3f} and the scorecard {val_auc['scorecard']:.3f})"
    )


def fit_churn_models(
    x: np.ndarray,
    y: np.ndarray,
    folds: tuple[np.ndarray, np.ndarray, np.ndarray],
    features: Sequence[str],
    seed: int = 0,
) -> tuple[Fitted, Linear]:
    """Fit baseline, boosted trees and scorecard; calibrate, choose and evaluate.

    `folds` are boolean masks (train, validation, test) over the rows of `x`.
    """
    train, validation, test = folds
    y = y.astype(int)
    mask = log_mask(features)
    linear = fit_linear(x[train], y[train], mask)
    boosted, trees = fit_trees(x[train], y[train], seed)
    scorecard, gini = fit_scorecard(x[train], y[train])

    yv = y[validation]
    val_auc = {
        "logistic_regression": roc_auc(yv, linear.logit(x[validation])),
        "gradient_boosting": roc_auc(yv, trees.raw(x[validation])),
        "scorecard": roc_auc(yv, -scorecard.health(x[validation])),
    }
    method = "isotonic" if yv.sum() >= 1000 else "sigmoid"
    calibrators = {
        "logistic_regression": calibrate(
            linear_estimator(linear), linear.standardise(x[validation]), yv, method
        ),
        "gradient_boosting": calibrate(boosted, x[validation], yv, method),
        "scorecard": platt(scorecard.health(x[validation]), yv),
    }
    predictors = {
        "logistic_regression": Predictor(
            "logistic_regression", calibrators["logistic_regression"], linear=linear
        ),
        "gradient_boosting": Predictor(
            "gradient_boosting", calibrators["gradient_boosting"], trees=trees
        ),
        "scorecard": Predictor("scorecard", calibrators["scorecard"], scorecard=scorecard),
    }
    published, reason = _choose(val_auc, (int(y[train].sum()), int(y[test].sum())))
    test_metrics = {name: summarise(y[test], p.proba(x[test])) for name, p in predictors.items()}

    arrays: dict[str, np.ndarray] = {}
    arrays.update(linear.arrays("baseline"))
    arrays.update(scorecard.arrays("scorecard"))
    arrays.update(calibrators["scorecard"].arrays("scorecard_cal"))
    chosen = predictors[published]
    arrays.update(chosen.calibrator.arrays("cal"))
    if published == "gradient_boosting":
        arrays.update(trees.arrays("gbm"))
    card = {
        "published": published,
        "decision": {
            "published": published,
            "reason": reason,
            "rule": (
                "publish the better of gradient boosting and the logistic-regression baseline "
                "(validation ROC AUC) only if it beats the rules scorecard and there are at least "
                f"{MIN_TRAIN_POSITIVES} training and {MIN_TEST_POSITIVES} held-out positives; "
                "otherwise publish the scorecard"
            ),
        },
        "calibration_method": method if published != "scorecard" else "sigmoid",
        "metrics": test_metrics[published],
        "baselines": {
            "logistic_regression": test_metrics["logistic_regression"],
            "scorecard": test_metrics["scorecard"],
        },
        "candidates": {
            name: {"validation_roc_auc": round(v, 4), "test_roc_auc": test_metrics[name]["roc_auc"]}
            for name, v in val_auc.items()
        },
        "health": {
            "weights": {
                f: round(float(w), 4) for f, w in zip(features, scorecard.weights, strict=True)
            },
            "gini": {f: round(float(g), 4) for f, g in zip(features, gini, strict=True)},
        },
    }
    return Fitted(arrays, card, chosen), linear


def _tiers(base_rate: float) -> dict[str, float]:
    return {name: round(min(base_rate * m, 0.95), 4) for name, m in TIER_MULTIPLES.items()}


def fit_signal_model(
    rows: Rows, spec: SignalSpec, plans: Sequence[str], cutoffs: Sequence[int], seed: int = 0
) -> Fitted:
    """Everything the packaged scoring model carries, fitted on point-in-time rows."""
    y30 = rows.labels[HORIZON_DAYS]
    labelled = ~np.isnan(y30)
    split = time_split(rows.cutoff, cutoffs)
    folds = (split.train & labelled, split.validation & labelled, split.test & labelled)
    fitted, linear = fit_churn_models(
        rows.x, np.nan_to_num(y30).astype(int), folds, rows.features, seed
    )
    train = folds[0]
    healthy = train & (y30 == 0)
    with np.errstate(all="ignore"):
        reason_baseline = np.nanmedian(rows.x[healthy], axis=0)
    fitted.arrays["reasons.baseline"] = np.nan_to_num(reason_baseline, nan=0.0)

    hazard_card = _fit_hazard(rows, split, linear, fitted)
    expansion_card = _fit_expansion(rows, split, linear, fitted)
    base_rate = float(y30[train].mean())
    tiers = _tiers(base_rate)
    spec_json = {
        "format": 1,
        "kind": "signals",
        "published": fitted.predictor.kind,
        "calibration": fitted.predictor.calibrator.kind,
        "features": rows.features,
        "signals": list(SIGNAL_NAMES),
        "plans": list(plans),
        "core_modules": list(spec.core_modules),
        "onboarding_steps": list(spec.onboarding_steps),
        "tiers": tiers,
        "hazard": hazard_card["method"],
        "expansion": expansion_card["method"],
    }
    fitted.arrays["spec"] = pack_spec(spec_json)
    day = rows.start.toordinal()
    used = folds[0] | folds[1] | folds[2]
    fitted.card.update(
        {
            "kind": "signals",
            "label": f"churned within {HORIZON_DAYS} days after the cutoff",
            "data": {
                "first_cutoff": date.fromordinal(day + int(rows.cutoff[used].min())).isoformat(),
                "last_cutoff": date.fromordinal(day + int(rows.cutoff[used].max())).isoformat(),
                "cutoff_every_days": CUTOFF_EVERY_DAYS,
                "lookback_days": LOOKBACK_DAYS,
                "rows": {
                    k: int(m.sum())
                    for k, m in zip(("train", "validation", "test"), folds, strict=True)
                },
                "positives": {
                    k: int(y30[m].sum())
                    for k, m in zip(("train", "validation", "test"), folds, strict=True)
                },
                "split": "by time: oldest cutoffs train, next fifth validates and calibrates, "
                "latest quarter is held out; 30-day gap between folds",
            },
            "features": rows.features,
            "signal_spec": {
                "core_modules": list(spec.core_modules),
                "onboarding_steps": list(spec.onboarding_steps),
            },
            "tiers": {
                "thresholds_churn_30": tiers,
                "rule": "critical if churn_30 >= critical; at_risk if >= at_risk; "
                "watch if >= watch; "
                "else healthy (multiples 1, 2.5 and 5 of the training base rate)",
            },
            "hazard": hazard_card,
            "expansion": expansion_card,
        }
    )
    return fitted


def _fit_hazard(rows: Rows, split: Split, linear: Linear, fitted: Fitted) -> dict[str, Any]:
    """Discrete-time hazard for days 31-60 and 61-90: one logistic model with a period flag."""
    y30, y60, y90 = (rows.labels[h] for h in HAZARD_HORIZONS)
    p2 = split.hazard_train & (y30 == 0) & ~np.isnan(y60)
    p3 = split.hazard_train & (y60 == 0) & ~np.isnan(y90)
    if y60[p2].sum() < 10 or y90[p3].sum() < 10:
        return {
            "method": "constant",
            "note": "too little history for days 31-90: hazard held at the 30-day rate",
        }
    from sklearn.linear_model import LogisticRegression

    z = np.vstack([linear.standardise(rows.x[p2]), linear.standardise(rows.x[p3])])
    flag = np.concatenate([np.zeros(p2.sum()), np.ones(p3.sum())])
    y = np.concatenate([y60[p2], y90[p3]]).astype(int)
    model = LogisticRegression(C=0.5, max_iter=3000).fit(np.column_stack([z, flag]), y)
    coef = model.coef_[0]
    fitted.arrays["hazard.coef"] = coef[:-1].copy()
    fitted.arrays["hazard.intercept"] = np.array(float(model.intercept_[0]))
    fitted.arrays["hazard.period3"] = np.array(float(coef[-1]))
    card: dict[str, Any] = {
        "method": "discrete_time",
        "note": "churn_60 = 1-(1-churn_30)(1-h2); churn_90 = 1-(1-churn_30)(1-h2)(1-h3)",
    }
    test = split.test
    c30 = fitted.predictor.proba(rows.x[test])
    zt = linear.standardise(rows.x[test])
    h2 = 1 / (1 + np.exp(-(zt @ coef[:-1] + model.intercept_[0])))
    h3 = 1 / (1 + np.exp(-(zt @ coef[:-1] + model.intercept_[0] + coef[-1])))
    for h, p in ((60, 1 - (1 - c30) * (1 - h2)), (90, 1 - (1 - c30) * (1 - h2) * (1 - h3))):
        known = ~np.isnan(rows.labels[h][test])
        card[f"churn_{h}"] = (
            summarise(rows.labels[h][test][known].astype(int), p[known]) if known.any() else None
        )
        if card[f"churn_{h}"]:
            card[f"churn_{h}"].pop("calibration")
    return card


def _fit_expansion(rows: Rows, split: Split, linear: Linear, fitted: Fitted) -> dict[str, Any]:
    labelled = ~np.isnan(rows.expansion)
    train = (split.train | split.validation) & labelled
    positives = int(rows.expansion[train].sum())
    if positives < 20:
        return {
            "method": "rule",
            "positives": positives,
            "note": "too few seat increases to learn from: usage-cap proximity x seat adoption",
        }
    model = fit_linear_on(linear, rows.x[train], rows.expansion[train].astype(int))
    fitted.arrays["expansion.coef"] = model.coef
    fitted.arrays["expansion.intercept"] = np.array(model.intercept)
    test = split.test & labelled
    auc = roc_auc(rows.expansion[test], model.logit(rows.x[test])) if test.any() else float("nan")
    return {
        "method": "logistic_regression",
        "label": f"seats grew within {EXPANSION_HORIZON_DAYS} days after the cutoff",
        "positives": positives,
        "test_roc_auc": None if auc != auc else round(auc, 4),
    }


# ---------------------------------------------------------------- entry points


def rows_from_cube(
    cube: ActivityCube, frame: AccountFrame
) -> tuple[Rows, SignalSpec, list[str], list[int]]:
    spec = spec_from_cube(cube)
    plans = sorted({p for p in frame.plan if p})
    cutoffs = default_cutoffs(cube.n_days)
    return build_rows(cube, frame, spec, plans, cutoffs), spec, plans, cutoffs


def cube_for_records(
    accounts: Sequence[Account], activity_by_account: Mapping[str, Iterable[DailyActivity]]
) -> ActivityCube:
    """An activity cube spanning every day the records cover."""
    days = [r.day for records in activity_by_account.values() for r in records]
    if not days:
        raise ValueError("no daily activity to train on; ingest events or generate a world first")
    start, end = min(days), max(days)
    ids = [a.account_id for a in accounts]
    return cube_from_records(ids, activity_by_account, start, (end - start).days + 1)


def train_from_records(
    accounts: Sequence[Account],
    activity_by_account: Mapping[str, Iterable[DailyActivity]],
    out: Path,
    source: str,
    seed: int = 0,
) -> dict[str, Any]:
    """Train the packaged model from profile-store records and write it to `out`.

    Works alike on what the DynamoDB store returns and on a synthetic world's records.
    """
    cube = cube_for_records(accounts, activity_by_account)
    return train_from_cube(cube, account_frame(accounts), out, source, seed)


def train_from_cube(
    cube: ActivityCube, frame: AccountFrame, out: Path, source: str, seed: int = 0
) -> dict[str, Any]:
    rows, spec, plans, cutoffs = rows_from_cube(cube, frame)
    fitted = fit_signal_model(rows, spec, plans, cutoffs, seed)
    fitted.card["data"]["source"] = source
    return write_model(out, fitted.arrays, fitted.card)
