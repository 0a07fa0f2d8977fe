"""The model artifact: plain numpy arrays in a zip, read without pickle, scored with numpy.

Training uses scikit-learn; the fitted estimators are exported to arrays (linear coefficients,
tree nodes, calibration maps, scorecard bins) so that scoring needs numpy only, loads fast,
and cannot execute code from the file. `write_npz` fixes the zip timestamps, so the same
arrays always give the same bytes and the same sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
ARTIFACT_FILE = "model.npz"
CARD_FILE = "model_card.json"
CARD_MARKDOWN = "model_card.md"
CHECKSUM_FILE = "model.sha256"
_TREE_ROWS = 256
"""Rows per block when walking trees (keeps the per-block node arrays in cache)."""


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> str:
    """Write arrays as a deterministic .npz and return its sha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            payload = io.BytesIO()
            np.lib.format.write_array(payload, np.asarray(arrays[name]), allow_pickle=False)
            archive.writestr(info, payload.getvalue())
    data = buffer.getvalue()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pack_spec(spec: dict[str, Any]) -> np.ndarray:
    return np.array(json.dumps(spec, sort_keys=True))


def unpack_spec(value: np.ndarray) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(str(value))
    return spec


def sigmoid(z: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


# ---------------------------------------------------------------- components


@dataclass
class Linear:
    """Impute, log-scale, standardise, then a logistic model: logit = z @ coef + intercept."""

    impute: np.ndarray
    log_mask: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def standardise(self, x: np.ndarray) -> np.ndarray:
        z = np.where(np.isnan(x), self.impute, x)
        if self.log_mask.any():
            z = z.copy()
            cols = z[:, self.log_mask]
            z[:, self.log_mask] = np.sign(cols) * np.log1p(np.abs(cols))
        out: np.ndarray = (z - self.mean) / self.scale
        return out

    def logit(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.standardise(x) @ self.coef + self.intercept
        return out

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.impute": self.impute,
            f"{prefix}.log_mask": self.log_mask,
            f"{prefix}.mean": self.mean,
            f"{prefix}.scale": self.scale,
            f"{prefix}.coef": self.coef,
            f"{prefix}.intercept": np.array(self.intercept),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str) -> Linear:
        return cls(
            impute=a[f"{prefix}.impute"],
            log_mask=a[f"{prefix}.log_mask"].astype(bool),
            mean=a[f"{prefix}.mean"],
            scale=a[f"{prefix}.scale"],
            coef=a[f"{prefix}.coef"],
            intercept=float(a[f"{prefix}.intercept"]),
        )


@dataclass
class Trees:
    """Boosted trees as flat node arrays; raw score = baseline + sum of leaf values."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    missing_left: np.ndarray
    is_leaf: np.ndarray
    roots: np.ndarray
    depth: int
    baseline: float
    _children: np.ndarray = field(init=False, repr=False, compare=False)
    _walkable: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The walk in `raw` names node i by 2i; `_children[2i + go_left]` is the next node
        # (as 2 x its index). Leaves point to themselves, so no row needs a leaf check.
        nodes = np.arange(len(self.feature), dtype=np.intp)
        left = np.where(self.is_leaf, nodes, self.left)
        right = np.where(self.is_leaf, nodes, self.right)
        self._children = 2 * np.stack([right, left], axis=1).astype(np.intp).ravel()
        self._walkable = not np.isnan(self.threshold[~self.is_leaf]).any()

    def raw(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        if n == 0:
            return np.zeros(0)
        if not self._walkable:
            return self._raw_stepwise(x)
        k = x.shape[1]
        x = np.asarray(x, dtype=float)
        # A missing value goes left at `missing_left` nodes: those read a copy of x with NaN
        # as -inf (always <= threshold), the others read NaN (never <= threshold).
        both = np.hstack([x, np.where(np.isnan(x), -np.inf, x)]).ravel()
        column = np.where(self.is_leaf, 0, self.feature + k * self.missing_left).repeat(2)
        threshold = self.threshold.repeat(2)
        roots = 2 * self.roots.astype(np.intp)
        nodes = np.empty((n, len(roots)), dtype=np.intp)
        for start in range(0, n, _TREE_ROWS):  # row blocks that stay in cache
            stop = min(n, start + _TREE_ROWS)
            node = np.broadcast_to(roots, (stop - start, len(roots))).copy()
            offset = np.arange(start, stop, dtype=np.intp)[:, None] * (2 * k)
            for _ in range(self.depth):
                go_left = both.take(column.take(node) + offset) <= threshold.take(node)
                node = self._children.take(node + go_left)
            nodes[start:stop] = node
        out: np.ndarray = self.value.repeat(2)[nodes].sum(axis=1) + self.baseline
        return out

    def _raw_stepwise(self, x: np.ndarray) -> np.ndarray:
        """`raw` one depth level at a time with explicit missing and leaf checks."""
        n = x.shape[0]
        node = np.broadcast_to(self.roots, (n, len(self.roots))).copy()
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            values = x[rows, self.feature[node]]
            missing = np.isnan(values)
            go_left = np.where(missing, self.missing_left[node], values <= self.threshold[node])
            child = np.where(go_left, self.left[node], self.right[node])
            node = np.where(self.is_leaf[node], node, child)
        out: np.ndarray = self.value[node].sum(axis=1) + self.baseline
        return out

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.feature": self.feature,
            f"{prefix}.threshold": self.threshold,
            f"{prefix}.left": self.left,
            f"{prefix}.right": self.right,
            f"{prefix}.value": self.value,
            f"{prefix}.missing_left": self.missing_left,
            f"{prefix}.is_leaf": self.is_leaf,
            f"{prefix}.roots": self.roots,
            f"{prefix}.depth": np.array(self.depth),
            f"{prefix}.baseline": np.array(self.baseline),
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str) -> Trees:
        return cls(
            feature=a[f"{prefix}.feature"],
            threshold=a[f"{prefix}.threshold"],
            left=a[f"{prefix}.left"],
            right=a[f"{prefix}.right"],
            value=a[f"{prefix}.value"],
            missing_left=a[f"{prefix}.missing_left"].astype(bool),
            is_leaf=a[f"{prefix}.is_leaf"].astype(bool),
            roots=a[f"{prefix}.roots"],
            depth=int(a[f"{prefix}.depth"]),
            baseline=float(a[f"{prefix}.baseline"]),
        )


@dataclass
class Calibrator:
    """Maps a raw score to a probability: Platt sigmoid (a, b) or isotonic steps (x, y)."""

    kind: str
    a: float = 0.0
    b: float = 0.0
    x: np.ndarray | None = None
    y: np.ndarray | None = None

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self.kind == "sigmoid":
            return sigmoid(-(self.a * raw + self.b))
        assert self.x is not None and self.y is not None
        out: np.ndarray = np.interp(raw, self.x, self.y)
        return out

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        if self.kind == "sigmoid":
            return {f"{prefix}.a": np.array(self.a), f"{prefix}.b": np.array(self.b)}
        assert self.x is not None and self.y is not None
        return {f"{prefix}.x": self.x, f"{prefix}.y": self.y}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str, kind: str) -> Calibrator:
        if kind == "sigmoid":
            return cls(kind, a=float(a[f"{prefix}.a"]), b=float(a[f"{prefix}.b"]))
        return cls(kind, x=a[f"{prefix}.x"], y=a[f"{prefix}.y"])


@dataclass
class Scorecard:
    """Weighted points per signal bin: health = 100 x (1 - sum(weight x bin risk)).

    `edges` has shape (k, n_edges) padded with +inf; `risk` has shape (k, n_edges + 1) where
    the last column is the risk of a missing value. Risks are 0 (best bin) .. 1 (worst bin).
    """

    edges: np.ndarray
    risk: np.ndarray
    weights: np.ndarray

    def bin_risk(self, x: np.ndarray) -> np.ndarray:
        k = x.shape[1]
        missing_col = self.risk.shape[1] - 1
        if (self.edges[:, 1:] >= self.edges[:, :-1]).all():
            # For sorted edges, the number of edges <= v is searchsorted(side="right").
            idx = np.zeros(x.shape, dtype=np.intp)
            for edge in self.edges.T:
                idx += x >= edge
            idx = np.where(np.isnan(x), missing_col, np.minimum(idx, missing_col - 1))
            binned: np.ndarray = self.risk[np.arange(k), idx]
            return binned
        out = np.empty_like(x, dtype=float)
        for j in range(k):
            column = x[:, j]
            idx = np.searchsorted(self.edges[j], column, side="right")
            idx = np.where(np.isnan(column), missing_col, np.minimum(idx, missing_col - 1))
            out[:, j] = self.risk[j, idx]
        return out

    def health(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = 100.0 * (1.0 - self.bin_risk(x) @ self.weights)
        return out

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.edges": self.edges,
            f"{prefix}.risk": self.risk,
            f"{prefix}.weights": self.weights,
        }

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str) -> Scorecard:
        return cls(a[f"{prefix}.edges"], a[f"{prefix}.risk"], a[f"{prefix}.weights"])


@dataclass
class Predictor:
    """The published churn predictor: raw score from trees / linear / scorecard, calibrated."""

    kind: str  # gradient_boosting, logistic_regression, scorecard
    calibrator: Calibrator
    linear: Linear | None = None
    trees: Trees | None = None
    scorecard: Scorecard | None = None

    def raw(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "gradient_boosting":
            assert self.trees is not None
            return self.trees.raw(x)
        if self.kind == "logistic_regression":
            assert self.linear is not None
            return self.linear.logit(x)
        assert self.scorecard is not None
        return self.scorecard.health(x)

    def proba(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.clip(self.calibrator(self.raw(x)), 0.0, 1.0)
        return out
