"""Training on any table exported from a warehouse: `intercept train --csv FILE --label COL`.

Columns whose non-blank values all parse as numbers are numeric (blanks become missing);
the others are categorical (one indicator per level seen at least 5 times, blanks as their
own level). The label accepts yes/no, true/false, y/n and 1/0, case-insensitive. The table is
split stratified and seeded: 25% held out for the card, 20% of the rest to calibrate and
choose between the candidates.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from intercept.model.artifact import pack_spec
from intercept.model.card import write_model
from intercept.model.training import fit_churn_models

POSITIVE = frozenset({"yes", "y", "true", "t", "1", "1.0", "churned"})
NEGATIVE = frozenset({"no", "n", "false", "f", "0", "0.0", "retained"})
ACCEPTED_LABELS = "yes/no, true/false, y/n or 1/0 (any case)"
MIN_LEVEL_COUNT = 5
MAX_LEVELS = 50
HOLDOUT = 0.25
VALIDATION = 0.2


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", "")) if text.strip() else None
    except ValueError:
        return None


def parse_label(values: Sequence[str], column: str) -> np.ndarray:
    """Map label texts to 0/1, or raise ValueError naming the column and accepted values."""
    cleaned = [v.strip().lower() for v in values]
    unknown = sorted({v for v in cleaned if v not in POSITIVE and v not in NEGATIVE})
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:5])
        raise ValueError(
            f"label column {column!r} has values {shown} that are not {ACCEPTED_LABELS}"
        )
    y = np.array([v in POSITIVE for v in cleaned], dtype=int)
    if y.min() == y.max():
        raise ValueError(
            f"label column {column!r} is constant ({'all positive' if y[0] else 'all negative'}); "
            f"it needs both classes ({ACCEPTED_LABELS})"
        )
    return y


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ValueError(f"{path} has no header row; expected a CSV file with column names")
        rows = [dict(r) for r in reader]
    if not rows:
        raise ValueError(f"{path} has a header but no rows")
    return list(reader.fieldnames), rows


def infer_columns(
    header: Sequence[str], rows: Sequence[Mapping[str, str]], skip: set[str]
) -> list[dict[str, Any]]:
    """Numeric or categorical per column, whatever the text looks like."""
    columns: list[dict[str, Any]] = []
    for name in header:
        if name in skip:
            continue
        texts = [(r.get(name) or "").strip() for r in rows]
        filled = [t for t in texts if t]
        if filled and all(_number(t) is not None for t in filled):
            columns.append({"name": name, "type": "numeric"})
            continue
        counts = Counter(t or "(blank)" for t in texts)
        levels = [lv for lv, c in counts.most_common(MAX_LEVELS) if c >= MIN_LEVEL_COUNT]
        if levels:
            columns.append({"name": name, "type": "categorical", "levels": levels})
    return columns


def feature_list(columns: Sequence[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for col in columns:
        if col["type"] == "numeric":
            names.append(col["name"])
        else:
            names.extend(f"{col['name']}={lv}" for lv in col["levels"])
    return names


def encode_rows(spec: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Rows of text (or numbers) to the model's feature matrix; unknown levels are all-zero."""
    blocks = []
    for col in spec["columns"]:
        texts = [
            str(r.get(col["name"], "") if r.get(col["name"]) is not None else "").strip()
            for r in rows
        ]
        if col["type"] == "numeric":
            values = [_number(t) for t in texts]
            blocks.append(
                np.array([np.nan if v is None else v for v in values], dtype=float)[:, None]
            )
        else:
            keys = np.array([t or "(blank)" for t in texts], dtype=object)[:, None]
            blocks.append((keys == np.array(col["levels"], dtype=object)[None, :]).astype(float))
    return np.hstack(blocks) if blocks else np.zeros((len(rows), 0))


def train_csv(
    path: Path, label: str, out: Path, id_column: str | None = None, seed: int = 0
) -> dict[str, Any]:
    """Train, calibrate, card and write a churn model from a CSV table.

    Raises
    ------
    ValueError
        The label or id column is missing, the label is constant or has unknown values.
    """
    from sklearn.model_selection import train_test_split

    header, rows = read_table(path)
    for name, role in ((label, "label"), (id_column, "id")):
        if name is not None and name not in header:
            raise ValueError(
                f"{role} column {name!r} is not in {path.name}; columns are {', '.join(header)}"
            )
    y = parse_label([r.get(label) or "" for r in rows], label)
    columns = infer_columns(header, rows, {label, *([id_column] if id_column else [])})
    if not columns:
        raise ValueError(f"{path.name} has no usable feature columns besides the label")
    features = feature_list(columns)
    spec: dict[str, Any] = {
        "format": 1,
        "kind": "tabular",
        "columns": columns,
        "features": features,
    }
    x = encode_rows(spec, rows)

    index = np.arange(len(y))
    rest, test = train_test_split(index, test_size=HOLDOUT, stratify=y, random_state=seed)
    train, validation = train_test_split(
        rest, test_size=VALIDATION, stratify=y[rest], random_state=seed
    )
    masks = tuple(np.isin(index, part) for part in (train, validation, test))
    fitted, _ = fit_churn_models(x, y, (masks[0], masks[1], masks[2]), features, seed)
    spec.update(
        {"published": fitted.predictor.kind, "calibration": fitted.predictor.calibrator.kind}
    )
    fitted.arrays["spec"] = pack_spec(spec)
    fitted.card.update(
        {
            "kind": "tabular",
            "label": f"{label} ({ACCEPTED_LABELS}; positive = yes/true/1)",
            "data": {
                "source": path.name,
                "id_column": id_column,
                "holdout": f"stratified, seeded ({seed}), {HOLDOUT:.0%} held out; "
                f"{VALIDATION:.0%} of the "
                "rest calibrates and chooses",
                "rows": {"train": len(train), "validation": len(validation), "test": len(test)},
                "positives": {
                    "train": int(y[train].sum()),
                    "validation": int(y[validation].sum()),
                    "test": int(y[test].sum()),
                },
            },
            "features": spec["features"],
            "columns": columns,
        }
    )
    return write_model(out, fitted.arrays, fitted.card)
