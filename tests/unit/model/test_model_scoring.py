"""Loading checks and scores: probabilities, health, tiers, reasons with numbers."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from intercept.errors import ModelMismatch
from intercept.model.artifact import pack_spec, read_npz, write_npz
from intercept.model.scoring import TIER_ORDER, ChurnModel
from intercept.model.synthetic import World
from intercept.records import DailyActivity, Score


@pytest.fixture
def model_copy(trained_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "model"
    shutil.copytree(trained_dir, out)
    return out


def _scores(
    trained_dir: Path, world: World, activity: dict[str, list[DailyActivity]], day: int
) -> list[Score]:
    model = ChurnModel.load(trained_dir)
    live = [a for a in world.accounts(world.day(day)) if a.status != "canceled"]
    return model.score(live, activity, world.day(day))


def test_scores_carry_probabilities_health_tier_and_reasons(
    trained_dir: Path, training_world: World, training_activity: dict[str, list[DailyActivity]]
) -> None:
    scores = _scores(trained_dir, training_world, training_activity, 290)
    assert scores
    for s in scores:
        assert 0 <= s.churn_30 <= s.churn_60 <= s.churn_90 <= 1
        assert 0 <= s.health <= 100 and s.tier in TIER_ORDER
        assert 0 <= s.expansion <= 1
        assert s.signals["days_to_renewal"] is not None and s.arr is not None
        for reason in s.reasons:
            assert reason.effect != 0 and re.search(r"\d", reason.sentence)
        risks = [r.effect > 0 for r in s.reasons]
        assert risks in ([True] * len(risks), [False] * len(risks))  # risks, or strengths only
        assert s.next_best_action is not None
    assert {s.tier for s in scores} - {"healthy"}  # not everyone is healthy
    assert sum(bool(s.reasons) for s in scores) >= 0.95 * len(scores)


def test_riskier_tiers_have_higher_churn_probabilities(
    trained_dir: Path, training_world: World, training_activity: dict[str, list[DailyActivity]]
) -> None:
    scores = _scores(trained_dir, training_world, training_activity, 290)
    by_tier = {t: [s.churn_30 for s in scores if s.tier == t] for t in TIER_ORDER}
    present = [t for t in TIER_ORDER if by_tier[t]]
    maxima = [max(by_tier[t]) for t in present]
    minima = [min(by_tier[t]) for t in present]
    assert all(hi <= lo for hi, lo in zip(maxima, minima[1:], strict=False))


def test_failed_payments_are_named_as_a_reason(
    trained_dir: Path, training_world: World, training_activity: dict[str, list[DailyActivity]]
) -> None:
    # GIVEN accounts whose payments have been failing for three weeks
    day = 290
    failing = {
        training_world.group_ids[d["account"]]
        for d in training_world.drivers
        if d["driver"] == "payment_failures" and 0 <= day - d["onset_day"] <= 40
    }
    scored = _scores(trained_dir, training_world, training_activity, day)
    scores = [s for s in scored if s.account_id in failing]
    assert scores
    # THEN their reasons say so, with the number of failures
    named = [s for s in scores if any(r.signal == "payment_failures_60d" for r in s.reasons)]
    assert len(named) >= 0.8 * len(scores)
    assert "failed payments" in named[0].reasons[0].sentence or any(
        "failed payments" in r.sentence for r in named[0].reasons
    )


def test_load_rejects_a_changed_artifact(model_copy: Path) -> None:
    data = bytearray((model_copy / "model.npz").read_bytes())
    data[-10] ^= 0xFF
    (model_copy / "model.npz").write_bytes(bytes(data))
    with pytest.raises(ModelMismatch, match="sha256"):
        ChurnModel.load(model_copy)


def test_load_rejects_another_scikit_learn_version(model_copy: Path) -> None:
    card = json.loads((model_copy / "model_card.json").read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    (model_copy / "model_card.json").write_text(json.dumps(card))
    with pytest.raises(ModelMismatch, match=r"scikit-learn 0\.24\.2"):
        ChurnModel.load(model_copy)
    assert ChurnModel.load(model_copy, check_versions=False).version == card["model_version"]


def test_load_rejects_a_different_feature_schema(model_copy: Path) -> None:
    arrays = read_npz((model_copy / "model.npz").read_bytes())
    spec = json.loads(str(arrays["spec"]))
    spec["signals"] = spec["signals"][:-1] + ["retired_signal"]
    arrays["spec"] = pack_spec(spec)
    digest = write_npz(model_copy / "model.npz", arrays)
    card = json.loads((model_copy / "model_card.json").read_text())
    card["artifact"]["sha256"] = digest
    (model_copy / "model_card.json").write_text(json.dumps(card))
    (model_copy / "model.sha256").write_text(f"{digest}  model.npz\n")
    with pytest.raises(ModelMismatch, match="feature schema"):
        ChurnModel.load(model_copy)


def test_artifact_bytes_are_deterministic(tmp_path: Path) -> None:
    arrays = {"a": np.arange(5.0), "b": np.array(["x"])}
    assert write_npz(tmp_path / "one.npz", arrays) == write_npz(tmp_path / "two.npz", arrays)


def test_scoring_handles_accounts_without_activity(trained_dir: Path) -> None:
    from datetime import date

    from intercept.records import Account

    model = ChurnModel.load(trained_dir)
    [score] = model.score([Account(account_id="new")], {}, date(2026, 6, 1))
    assert 0 <= score.churn_30 <= 1 and 0 <= score.health <= 100


def test_every_reason_sentence_quotes_a_number() -> None:
    from intercept.model.reasons import ACTIONS, SENTENCES, STRENGTHS
    from intercept.model.signals import SIGNAL_NAMES

    quoted = "logins_14d logins_prior_14d people_14d people_prior_14d people_30d seats"
    quoted += " session_minutes_14d session_minutes_prior_14d module_gap_days open_tickets"
    context = dict.fromkeys(quoted.split(), 3.0)
    for name, sentence in SENTENCES.items():
        assert name in SIGNAL_NAMES and name in ACTIONS
        assert re.search(r"\d", sentence(-0.45, 0.2, context, "Reporting")), name
    for name, sentence in STRENGTHS.items():
        assert name in SIGNAL_NAMES
        assert re.search(r"\d", sentence(0.45, 0.2, context, "Reporting")), name
    assert SENTENCES["module_gap_days"](21, 4, context, "Reporting") == (
        "No use of Reporting for 21 days"
    )
    assert SENTENCES["login_trend"](-0.45, 0.0, context, "").startswith(
        "Logins fell 45% over the last 14 days"
    )
