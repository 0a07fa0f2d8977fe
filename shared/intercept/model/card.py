"""The model card: what a model was trained on, how well it does, and what it is made of.

Every artifact is written beside `model_card.json`, its markdown rendering `model_card.md`
and `model.sha256`. The card names the library versions that trained the model and the
artifact's sha256; loading checks both.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from intercept.model.artifact import (
    ARTIFACT_FILE,
    CARD_FILE,
    CARD_MARKDOWN,
    CHECKSUM_FILE,
    FORMAT_VERSION,
    write_npz,
)

_PACKAGE_INIT = '"""The packaged churn model: artifact, card and checksum (data, no code)."""\n'


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("numpy", "scikit-learn"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def write_model(out: Path, arrays: dict[str, np.ndarray], card: dict[str, Any]) -> dict[str, Any]:
    """Write artifact, card (JSON and markdown) and checksum into `out`; return the card."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / ARTIFACT_FILE
    digest = write_npz(path, arrays)
    card = {
        "model_version": f"{card.get('kind', 'model')}-{digest[:12]}",
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        **card,
        "libraries": library_versions(),
        "artifact": {
            "file": ARTIFACT_FILE,
            "sha256": digest,
            "bytes": path.stat().st_size,
            "format": FORMAT_VERSION,
        },
    }
    (out / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    (out / CARD_MARKDOWN).write_text(render_markdown(card))
    (out / CHECKSUM_FILE).write_text(f"{digest}  {ARTIFACT_FILE}\n")
    if out.name == "intercept_model" and not (out / "__init__.py").exists():
        (out / "__init__.py").write_text(_PACKAGE_INIT)
    return card


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "-"
    return str(value)


def _metrics_rows(name: str, m: dict[str, Any] | None) -> str:
    if not m:
        return f"| {name} | - | - | - | - | - |\n"
    return (
        f"| {name} | {_fmt(m.get('roc_auc'))} | {_fmt(m.get('pr_auc'))} | {_fmt(m.get('brier'))} "
        f"| {_fmt(m.get('lift_top_decile'))} | {_fmt(m.get('recall_top_decile'))} |\n"
    )


def render_markdown(card: dict[str, Any]) -> str:
    """A human rendering of the card's JSON."""
    m = card.get("metrics", {})
    data = card.get("data", {})
    decision = card.get("decision", {})
    lines = [
        f"# Model card: {card.get('model_version')}\n",
        f"Published model: **{card.get('published')}**: {decision.get('reason', '')}.\n",
        f"Rule: {decision.get('rule', '')}.\n",
        f"Label: {card.get('label', '')}.\n",
        "## Data\n",
        f"- source: {data.get('source', '-')}",
    ]
    for key in (
        "first_cutoff",
        "last_cutoff",
        "cutoff_every_days",
        "lookback_days",
        "split",
        "holdout",
    ):
        if key in data:
            lines.append(f"- {key.replace('_', ' ')}: {data[key]}")
    lines.append(f"- rows: {data.get('rows')}")
    lines.append(f"- positives: {data.get('positives')}")
    lines.append(
        f"- features ({len(card.get('features', []))}): {', '.join(card.get('features', []))}\n"
    )
    lines.append("## Held-out figures\n")
    lines.append("| model | ROC AUC | PR AUC | Brier | lift top decile | recall top decile |")
    lines.append("|---|---|---|---|---|---|")
    table = _metrics_rows(f"{card.get('published')} (published)", m)
    for name, figures in card.get("baselines", {}).items():
        table += _metrics_rows(name, figures)
    lines.append(table)
    lines.append("## Calibration (held out, equal-count bins)\n")
    lines.append("| rows | mean predicted | observed |")
    lines.append("|---|---|---|")
    for row in m.get("calibration", []):
        lines.append(
            f"| {row['rows']} | {_fmt(row['mean_predicted'])} | {_fmt(row['observed_rate'])} |"
        )
    lines.append("")
    extra = {k: card[k] for k in ("hazard", "expansion", "tiers") if k in card}
    if extra:
        lines.append("## Time to event, expansion, tiers\n")
        lines.append("```json\n" + json.dumps(extra, indent=2) + "\n```\n")
    weights = card.get("health", {}).get("weights")
    if weights:
        lines.append("## Health weights (share of measured Gini)\n")
        top = sorted(weights.items(), key=lambda kv: -kv[1])
        lines.append(", ".join(f"{k} {v:.3f}" for k, v in top if v > 0) + "\n")
    lines.append("## Libraries and artifact\n")
    lines.append(f"- libraries: {card.get('libraries')}")
    art = card.get("artifact", {})
    lines.append(
        f"- artifact: {art.get('file')} ({art.get('bytes')} bytes), sha256 `{art.get('sha256')}`"
    )
    return "\n".join(lines) + "\n"
