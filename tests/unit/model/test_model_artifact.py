"""Scoring arrays: the tree walk and the scorecard bins against step-by-step numpy code."""

from __future__ import annotations

import numpy as np

from intercept.model.artifact import Scorecard, Trees


def _stepwise_raw(trees: Trees, x: np.ndarray) -> np.ndarray:
    """One depth level at a time, with explicit missing-value and leaf checks."""
    node = np.broadcast_to(trees.roots, (x.shape[0], len(trees.roots))).copy()
    rows = np.arange(x.shape[0])[:, None]
    for _ in range(trees.depth):
        values = x[rows, trees.feature[node]]
        go_left = np.where(
            np.isnan(values), trees.missing_left[node], values <= trees.threshold[node]
        )
        child = np.where(go_left, trees.left[node], trees.right[node])
        node = np.where(trees.is_leaf[node], node, child)
    out: np.ndarray = trees.value[node].sum(axis=1) + trees.baseline
    return out


def _random_trees(rng: np.random.Generator, n_trees: int, k: int, depth: int) -> Trees:
    """Trees of random shape: some leaves early, splits on +inf, missing values either way."""
    feature, threshold, left, right, value, missing_left, is_leaf, roots = ([] for _ in range(8))

    def grow(level: int) -> int:
        node = len(feature)
        leaf = level == depth or (level > 0 and rng.random() < 0.25)
        feature.append(int(rng.integers(k)))
        threshold.append(np.inf if rng.random() < 0.05 else float(rng.normal()))
        missing_left.append(bool(rng.random() < 0.5))
        is_leaf.append(leaf)
        value.append(float(rng.normal()) if leaf else 0.0)
        left.append(0)
        right.append(0)
        if not leaf:
            left[node] = grow(level + 1)
            right[node] = grow(level + 1)
        return node

    for _ in range(n_trees):
        roots.append(grow(0))
    return Trees(
        feature=np.array(feature, dtype=np.int32),
        threshold=np.array(threshold),
        left=np.array(left, dtype=np.int32),
        right=np.array(right, dtype=np.int32),
        value=np.array(value),
        missing_left=np.array(missing_left),
        is_leaf=np.array(is_leaf),
        roots=np.array(roots, dtype=np.int32),
        depth=depth,
        baseline=-1.5,
    )


def test_tree_walk_matches_the_stepwise_walk_exactly() -> None:
    rng = np.random.default_rng(11)
    for depth in (1, 3, 5):
        trees = _random_trees(rng, 60, 6, depth)
        x = rng.normal(size=(1000, 6))  # more rows than one block of the walk
        x[rng.random(x.shape) < 0.2] = np.nan
        x[rng.random(x.shape) < 0.02] = np.inf
        for j in range(6):  # values equal to a threshold they are compared with
            splits = trees.threshold[~trees.is_leaf & (trees.feature == j)]
            x[:50, j] = rng.choice(splits) if len(splits) else 0.0
        assert np.array_equal(trees.raw(x), _stepwise_raw(trees, x))
        assert np.array_equal(trees.raw(x[:1]), _stepwise_raw(trees, x[:1]))
    assert trees.raw(np.zeros((0, 6))).shape == (0,)


def test_tree_walk_with_a_nan_threshold_falls_back_to_steps() -> None:
    rng = np.random.default_rng(12)
    trees = _random_trees(rng, 20, 4, 3)
    trees.threshold[np.flatnonzero(~trees.is_leaf)[:3]] = np.nan
    trees.__post_init__()
    x = rng.normal(size=(300, 4))
    x[rng.random(x.shape) < 0.2] = np.nan
    assert np.array_equal(trees.raw(x), _stepwise_raw(trees, x))


def _searchsorted_bins(card: Scorecard, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x, dtype=float)
    missing_col = card.risk.shape[1] - 1
    for j in range(x.shape[1]):
        idx = np.searchsorted(card.edges[j], x[:, j], side="right")
        idx = np.where(np.isnan(x[:, j]), missing_col, np.minimum(idx, missing_col - 1))
        out[:, j] = card.risk[j, idx]
    return out


def test_scorecard_bins_match_searchsorted_on_and_between_edges() -> None:
    rng = np.random.default_rng(13)
    k, n_edges = 7, 5
    edges = np.sort(rng.normal(size=(k, n_edges)), axis=1)
    edges[:2, -2:] = np.inf  # padded columns
    edges[2, 1] = edges[2, 2]  # a repeated edge
    card = Scorecard(edges, rng.random((k, n_edges + 2)), rng.random(k) / k)
    x = rng.normal(size=(500, k)) * 2
    x[rng.random(x.shape) < 0.1] = np.nan
    x[: k * n_edges] = np.broadcast_to(edges.T.reshape(-1, 1), (k * n_edges, 1)).repeat(k, axis=1)
    x[-3:] = np.array([[np.inf], [-np.inf], [np.nan]])
    assert np.array_equal(card.bin_risk(x), _searchsorted_bins(card, x))
    unsorted = Scorecard(edges[:, ::-1].copy(), card.risk, card.weights)  # binned column-wise
    assert np.array_equal(unsorted.bin_risk(x), _searchsorted_bins(unsorted, x))
    assert np.array_equal(
        card.health(x), 100.0 * (1.0 - _searchsorted_bins(card, x) @ card.weights)
    )
