"""Loading checks and scores: probabilities, health, tiers, reasons with numbers."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from datetime import UTC, datetime, time
from pathlib import Path

import numpy as np
import pytest

from intercept.errors import ModelMismatch
from intercept.model.artifact import pack_spec, read_npz, write_npz
from intercept.model.scoring import TIER_ORDER, ChurnModel
from intercept.model.signals import SignalFrame
from intercept.model.synthetic import World
from intercept.records import Account, DailyActivity, Reason, Score


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
    quoted += " logins_7d key_person_gap_days tickets_30d"
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


def _validated_scores(
    model: ChurnModel, accounts: list[Account], frame: SignalFrame
) -> list[Score]:
    """Scores built the plain way: a row at a time, Python `round`, validated records."""
    from intercept.model.reasons import (
        QUOTED_SIGNALS,
        SENTENCES,
        STRENGTHS,
        next_best_action,
        pick_reasons,
        top_reasons,
    )
    from intercept.model.signals import SIGNAL_NAMES, as_dicts

    moment = datetime.combine(frame.as_of, time(23, 59, 59), tzinfo=UTC)
    x = model.matrix(frame)
    result = model.score_arrays(x)
    picked = pick_reasons(result.effect, model.features)
    safe_idx, _ = top_reasons(-result.protective, 2)
    scores = []
    for i, (account, signals) in enumerate(zip(accounts, as_dicts(frame), strict=True)):
        context = {name: float(values[i]) for name, values in frame.context.items()}
        context.update({name: float(x[i, SIGNAL_NAMES.index(name)]) for name in QUOTED_SIGNALS})
        chosen = [(j, SENTENCES, result.effect) for j in picked[i]]
        if not chosen:
            safe = [j for j in safe_idx[i].tolist() if result.protective[i, j] < 0]
            chosen = [(j, STRENGTHS, result.protective) for j in safe]
        reasons = []
        for j, wording, source in chosen:
            name, value, base = model.features[j], float(x[i, j]), float(model.reason_baseline[j])
            sentence = wording[name](value, base, context, frame.gap_module[i])
            reasons.append(
                Reason(
                    signal=name,
                    value=round(value, 4),
                    baseline=round(base, 4),
                    effect=round(float(source[i, j]), 4),
                    sentence=sentence,
                )
            )
        expansion = float(result.expansion[i])
        tier = result.tier[i]
        scores.append(
            Score(
                account_id=account.account_id,
                as_of=moment,
                model_version=model.version,
                churn_30=round(float(result.churn_30[i]), 4),
                churn_60=round(float(result.churn_60[i]), 4),
                churn_90=round(float(result.churn_90[i]), 4),
                health=int(result.health[i]),
                tier=tier,
                expansion=round(expansion, 4),
                reasons=reasons,
                next_best_action=next_best_action(reasons, frame.gap_module[i], expansion, tier),
                arr=account.arr
                if account.arr is not None
                else (account.mrr * 12 if account.mrr else None),
                signals=signals,
            )
        )
    return scores


def _types(value: object) -> set[type]:
    if isinstance(value, dict):
        return {t for v in value.values() for t in _types(v)}
    if isinstance(value, list):
        return {t for v in value for t in _types(v)}
    return {type(value)}


def test_score_frame_serialises_like_validated_scores_built_row_by_row(
    trained_dir: Path, training_world: World, training_activity: dict[str, list[DailyActivity]]
) -> None:
    from intercept.model.signals import signals_as_of

    # GIVEN a few hundred live accounts and their signals
    model = ChurnModel.load(trained_dir)
    day = training_world.day(290)
    live = [a for a in training_world.accounts(day) if a.status != "canceled"]
    frame = signals_as_of(live, training_activity, day, model.signal_spec)
    # WHEN they are scored from the frame
    scores = model.score_frame(live, frame, day)
    expected = _validated_scores(model, live, frame)
    # THEN every record equals, and serialises exactly like, the validated row-by-row one
    assert len(scores) == len(expected) >= 200
    assert sum(bool(s.reasons) for s in scores) >= 0.95 * len(scores)
    assert any(r.effect < 0 for s in scores for r in s.reasons)  # strengths are covered too
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a value of the wrong type warns when serialised
        for got, want in zip(scores, expected, strict=True):
            assert got.model_dump(mode="json") == want.model_dump(mode="json")
            assert got == want and got.model_fields_set == want.model_fields_set
            assert _types(got.model_dump()) <= {str, float, int, datetime, type(None)}
    assert [s.model_dump() for s in model.score(live, training_activity, day)] == [
        s.model_dump() for s in scores
    ]


def test_score_frame_needs_the_frames_accounts_in_order(
    trained_dir: Path, training_world: World, training_activity: dict[str, list[DailyActivity]]
) -> None:
    from intercept.model.signals import signals_as_of

    model = ChurnModel.load(trained_dir)
    day = training_world.day(200)
    live = [a for a in training_world.accounts(day) if a.status != "canceled"][:20]
    frame = signals_as_of(live, training_activity, day, model.signal_spec)
    with pytest.raises(ValueError, match="do not match"):
        model.score_frame(live[::-1], frame, day)
    with pytest.raises(ValueError, match="do not match"):
        model.score_frame(live[:-1], frame, day)
