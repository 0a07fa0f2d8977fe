"""Figures a model card reports: ranking, calibration and the top decile."""

from __future__ import annotations

from typing import Any

import numpy as np


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half); NaN when one class is absent."""
    y = np.asarray(y, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=float)
    sorted_scores = np.asarray(score)[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, counts)
    return float((ranks[y].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def summarise(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """ROC AUC, PR AUC, Brier, calibration table, lift and recall in the top decile."""
    from sklearn.metrics import average_precision_score, brier_score_loss

    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    positives = int(y.sum())
    base = positives / max(len(y), 1)
    top = np.argsort(-p, kind="mergesort")[: max(len(y) // 10, 1)]
    top_rate = float(y[top].mean()) if len(top) else 0.0
    both = 0 < positives < len(y)
    return {
        "rows": len(y),
        "positives": positives,
        "base_rate": round(base, 5),
        "roc_auc": round(roc_auc(y, p), 4) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, np.clip(p, 0, 1))), 5) if len(y) else None,
        "lift_top_decile": round(top_rate / base, 3) if base > 0 else None,
        "recall_top_decile": round(float(y[top].sum()) / positives, 4) if positives else None,
        "calibration": calibration_table(y, p, bins),
    }


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Equal-count bins of the predicted probability: mean predicted vs observed rate."""
    if len(y) == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    table = []
    for chunk in np.array_split(order, min(bins, len(y))):
        if len(chunk) == 0:
            continue
        table.append(
            {
                "rows": len(chunk),
                "mean_predicted": round(float(p[chunk].mean()), 5),
                "observed_rate": round(float(y[chunk].mean()), 5),
            }
        )
    return table
