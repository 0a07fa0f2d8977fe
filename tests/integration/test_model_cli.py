"""The model commands end to end: generate a world, train from its records, score with it."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from intercept.cli import main
from intercept.commands.model import store_records
from intercept.model.scoring import ChurnModel
from intercept.model.synthetic import generate_world, load_world_records

ROOT = Path(__file__).resolve().parents[2]


def test_generate_then_train_from_the_world_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world_dir, model_dir = tmp_path / "world", tmp_path / "model"
    size = ["--seed", "2", "--accounts", "300", "--days", "250"]
    args = ["generate", *size, "--out", str(world_dir)]
    assert main([*args, "--no-payloads"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["accounts"] == 300 and summary["churned"] > 0

    assert main(["train", "--world", str(world_dir), "--out", str(model_dir)]) == 0
    printed = json.loads(capsys.readouterr().out)
    card = json.loads((model_dir / "model_card.json").read_text())
    assert printed["artifact_sha256"] == card["artifact"]["sha256"]
    assert "synthetic world" in card["data"]["source"]
    # A small world has too few churners for a learned model: the scorecard is published.
    assert card["published"] == "scorecard" and "too few positives" in card["decision"]["reason"]

    model = ChurnModel.load(model_dir)
    accounts, activity = load_world_records(world_dir)
    live = [a for a in accounts if a.status != "canceled"]
    scores = model.score(live, activity, date(2026, 9, 7))
    assert len(scores) == len(live) and all(s.model_version == model.version for s in scores)


def test_train_reads_accounts_and_activity_through_the_store_interface() -> None:
    world = generate_world(6, 10, 30)
    accounts = {a.account_id: a for a in world.accounts()}
    activity = world.daily_activity()
    fake = SimpleNamespace(
        iter_account_ids=lambda: iter(accounts),
        get_accounts=lambda ids: {i: accounts[i] for i in ids},
        get_daily_activity=lambda account_id, start, end: [
            r for r in activity[account_id] if start <= r.day <= end
        ],
    )
    got_accounts, got_activity = store_records(fake)
    assert [a.account_id for a in got_accounts] == list(accounts)
    assert got_activity == activity


def test_packaged_model_loads_from_the_layer_folder() -> None:
    layer = ROOT / "model"
    sys.path.insert(0, str(layer))
    try:
        model = ChurnModel.load()
    finally:
        sys.path.remove(str(layer))
    card = json.loads((layer / "intercept_model" / "model_card.json").read_text())
    assert model.version == card["model_version"]
    assert (layer / "intercept_model" / "model.npz").stat().st_size < 5 * 2**20
    assert card["metrics"]["roc_auc"] > card["baselines"]["scorecard"]["roc_auc"]
