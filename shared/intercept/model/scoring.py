"""The packaged churn model at scoring time: load once, check, score many accounts at once.

`ChurnModel.load()` reads the artifact from the `intercept_model` package (the model layer)
or from a directory, verifies its sha256, the artifact format, the scikit-learn version that
trained it and the feature schema against this code's signal catalog, and fails with
`ModelMismatch` naming what differs. Scoring needs numpy only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from intercept.errors import ConfigurationError, ModelMismatch
from intercept.model.artifact import (
    ARTIFACT_FILE,
    CARD_FILE,
    CHECKSUM_FILE,
    FORMAT_VERSION,
    Calibrator,
    Linear,
    Predictor,
    Scorecard,
    Trees,
    read_npz,
    sigmoid,
    unpack_spec,
)
from intercept.model.reasons import ReasonRules, build_reasons, next_best_action, rounded
from intercept.model.signals import (
    SIGNAL_NAMES,
    SignalFrame,
    SignalSpec,
    as_dicts,
    signals_as_of,
    signals_from_stored,
)
from intercept.profiles.activity import StoredDays
from intercept.records import Account, DailyActivity, Score

TIER_ORDER = ("healthy", "watch", "at_risk", "critical")


@dataclass
class ScoreArrays:
    """The numbers of a scoring run, one entry per account (before records are built)."""

    churn_30: np.ndarray
    churn_60: np.ndarray
    churn_90: np.ndarray
    health: np.ndarray
    tier: list[str]
    expansion: np.ndarray
    effect: np.ndarray
    protective: np.ndarray


class ChurnModel:
    """A loaded, verified model. Build it with `ChurnModel.load`."""

    def __init__(self, arrays: dict[str, np.ndarray], card: dict[str, Any], path: Path) -> None:
        self.card = card
        self.path = path
        self.spec = unpack_spec(arrays["spec"])
        self.version = str(card["model_version"])
        self.features: list[str] = list(self.spec["features"])
        self.kind = str(self.spec["kind"])
        self.predictor = _predictor(arrays, self.spec)
        self.baseline = Linear.from_arrays(arrays, "baseline")
        self.scorecard = Scorecard.from_arrays(arrays, "scorecard")
        self.plans: list[str] = list(self.spec.get("plans", []))
        self.signal_spec = SignalSpec(
            tuple(self.spec.get("core_modules", [])), tuple(self.spec.get("onboarding_steps", []))
        )
        self.tiers: dict[str, float] = dict(self.spec.get("tiers", {}))
        self.reason_baseline = arrays.get("reasons.baseline", np.zeros(len(self.features)))
        self.reason_rules = ReasonRules.build(self.baseline, self.reason_baseline, self.features)
        self.hazard = (
            (
                arrays["hazard.coef"],
                float(arrays["hazard.intercept"]),
                float(arrays["hazard.period3"]),
            )
            if "hazard.coef" in arrays
            else None
        )
        self.expansion_model = (
            Linear(
                self.baseline.impute,
                self.baseline.log_mask,
                self.baseline.mean,
                self.baseline.scale,
                arrays["expansion.coef"],
                float(arrays["expansion.intercept"]),
            )
            if "expansion.coef" in arrays
            else None
        )

    # ------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | Path | None = None, *, check_versions: bool = True) -> ChurnModel:
        """Load and verify a model directory (default: the `intercept_model` package).

        Raises
        ------
        ModelMismatch
            The checksum, format, scikit-learn version or feature schema does not match.
        ConfigurationError
            No model directory was given and `intercept_model` is not importable.
        """
        folder = Path(path) if path is not None else _package_dir()
        card_path, artifact_path = folder / CARD_FILE, folder / ARTIFACT_FILE
        if not card_path.is_file() or not artifact_path.is_file():
            raise ConfigurationError(
                f"no model in {folder}: expected {ARTIFACT_FILE} and {CARD_FILE} "
                "(train one with `intercept train`)"
            )
        card = json.loads(card_path.read_text())
        data = artifact_path.read_bytes()
        _check_checksum(folder, data, card)
        _check_format(card)
        if check_versions:
            _check_sklearn(card)
        arrays = read_npz(data)
        spec = unpack_spec(arrays["spec"])
        _check_schema(spec, card)
        return cls(arrays, card, folder)

    # ------------------------------------------------------------ scoring

    def matrix(self, frame: SignalFrame) -> np.ndarray:
        """The feature matrix the model reads: signals then one indicator per known plan."""
        if not self.plans:
            return frame.values
        plans = (
            np.array(frame.plan, dtype=object)[:, None]
            == np.array(self.plans, dtype=object)[None, :]
        )
        return np.hstack([frame.values, plans.astype(float)])

    def score_arrays(self, x: np.ndarray) -> ScoreArrays:
        """Probabilities, health, tier, expansion and reason effects for a feature matrix."""
        churn_30 = self.predictor.proba(x)
        z = self.baseline.standardise(x)  # shared by hazard, effects and expansion
        if self.hazard is not None:
            coef, intercept, period3 = self.hazard
            logit = z @ coef + intercept
            h2, h3 = sigmoid(logit), sigmoid(logit + period3)
        else:
            h2 = h3 = churn_30
        churn_60 = 1 - (1 - churn_30) * (1 - h2)
        churn_90 = 1 - (1 - churn_60) * (1 - h3)
        health = np.clip(np.rint(self.scorecard.health(x)), 0, 100)
        tier_index = np.zeros(len(churn_30), dtype=int)
        for level, name in enumerate(TIER_ORDER[1:], start=1):
            tier_index = np.where(churn_30 >= self.tiers.get(name, np.inf), level, tier_index)
        effect, protective = self.reason_rules.effects(x, z)
        return ScoreArrays(
            churn_30=churn_30,
            churn_60=churn_60,
            churn_90=churn_90,
            health=health,
            tier=[TIER_ORDER[i] for i in tier_index.tolist()],
            expansion=self._expansion(x, z),
            effect=effect,
            protective=protective,
        )

    def _expansion(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        if self.expansion_model is not None:
            # The expansion model standardises like the baseline, so `z` is its input too.
            return sigmoid(z @ self.expansion_model.coef + self.expansion_model.intercept)
        cap = np.nan_to_num(x[:, SIGNAL_NAMES.index("usage_cap_proximity")], nan=0.0)
        adoption = np.nan_to_num(x[:, SIGNAL_NAMES.index("seat_adoption")], nan=0.0)
        out: np.ndarray = sigmoid(8.0 * (cap - 0.85)) * np.minimum(adoption / 0.6, 1.0)
        return out

    def score(
        self,
        accounts: Sequence[Account],
        activity_by_account: Mapping[str, Iterable[DailyActivity]],
        as_of: datetime | date,
    ) -> list[Score]:
        """Score every account as of `as_of` from its daily activity (vectorised).

        Parameters
        ----------
        accounts : sequence of Account
            The accounts to score.
        activity_by_account : mapping of account id to DailyActivity records
            At least the `LOOKBACK_DAYS` (90) days ending with the as-of day; older and later
            records are ignored.
        as_of : datetime or date
            The moment scored; signals use the UTC day of it and nothing after.

        Returns
        -------
        list of Score
            One per account, in the order given.
        """
        self._require_signals()
        moment = _as_datetime(as_of)
        frame = signals_as_of(accounts, activity_by_account, moment, self.signal_spec)
        return self.score_frame(accounts, frame, moment)

    def score_stored(
        self, accounts: Sequence[Account], stored: StoredDays, as_of: datetime | date
    ) -> list[Score]:
        """Score accounts from their stored day items, as the scoring function reads them.

        Same scores as `score` on the `DailyActivity` records of those items, without building
        a record per day (see `ProfileStore.get_stored_days`).
        """
        self._require_signals()
        moment = _as_datetime(as_of)
        frame = signals_from_stored(accounts, stored, moment, self.signal_spec)
        return self.score_frame(accounts, frame, moment)

    def score_frame(
        self, accounts: Sequence[Account], frame: SignalFrame, as_of: datetime | date
    ) -> list[Score]:
        """Score accounts whose signals are already computed (everything after the signals).

        Parameters
        ----------
        accounts : sequence of Account
            The accounts to score, in the order of `frame.account_ids`.
        frame : SignalFrame
            Their signals as of `as_of` (from `signals_as_of` with this model's `signal_spec`).
        as_of : datetime or date
            The moment scored (a date means the end of that UTC day).

        Returns
        -------
        list of Score
            One per account, in the order given.

        Raises
        ------
        ModelMismatch
            The model was trained on a table, not on account signals.
        ValueError
            The accounts are not the frame's accounts in the frame's order.
        """
        self._require_signals()
        ids = [account.account_id for account in accounts]
        if ids != frame.account_ids:
            raise ValueError(
                f"the frame's {len(frame.account_ids)} accounts do not match the {len(ids)} "
                "accounts given (same accounts in the same order expected)"
            )
        moment = _as_datetime(as_of)
        x = self.matrix(frame)
        result = self.score_arrays(x)
        reasons = build_reasons(
            frame, x, result.effect, self.reason_baseline, self.features, result.protective
        )
        return [
            Score.model_validate(
                {
                    "account_id": account.account_id,
                    "as_of": moment,
                    "model_version": self.version,
                    "churn_30": c30,
                    "churn_60": c60,
                    "churn_90": c90,
                    "health": h,
                    "tier": tier,
                    "expansion": e4,
                    "reasons": r,
                    "next_best_action": next_best_action(r, module, e, tier),
                    "arr": _arr(account),
                    "signals": s,
                },
            )
            for account, c30, c60, c90, h, tier, e, e4, r, s, module in zip(
                accounts,
                rounded(result.churn_30),
                rounded(result.churn_60),
                rounded(result.churn_90),
                result.health.astype(int).tolist(),
                result.tier,
                result.expansion.tolist(),
                rounded(result.expansion),
                reasons,
                as_dicts(frame),
                frame.gap_module,
                strict=True,
            )
        ]

    def _require_signals(self) -> None:
        if self.kind != "signals":
            raise ModelMismatch(
                f"model {self.version} was trained on a table (--csv), not on account signals; "
                "score accounts with a model from `intercept train --world` or `--from-store`"
            )

    def predict_table(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Churn probabilities for table rows (models trained with `--csv`)."""
        if self.kind != "tabular":
            raise ModelMismatch(f"model {self.version} scores accounts, not table rows")
        from intercept.model.tabular import encode_rows

        return self.predictor.proba(encode_rows(self.spec, rows))


def _arr(account: Account) -> float | None:
    if account.arr is not None:
        return float(account.arr)
    return float(account.mrr * 12) if account.mrr else None


def _as_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(23, 59, 59), tzinfo=UTC)


def _package_dir() -> Path:
    try:
        import intercept_model
    except ImportError as exc:
        raise ConfigurationError(
            "the packaged model `intercept_model` is not importable: attach the model layer or "
            "pass a model directory"
        ) from exc
    return Path(intercept_model.__file__).resolve().parent


def _predictor(arrays: dict[str, np.ndarray], spec: dict[str, Any]) -> Predictor:
    kind = spec["published"]
    calibrator = Calibrator.from_arrays(arrays, "cal", spec["calibration"])
    if kind == "gradient_boosting":
        return Predictor(kind, calibrator, trees=Trees.from_arrays(arrays, "gbm"))
    if kind == "logistic_regression":
        return Predictor(kind, calibrator, linear=Linear.from_arrays(arrays, "baseline"))
    return Predictor(
        "scorecard",
        Calibrator.from_arrays(arrays, "scorecard_cal", "sigmoid"),
        scorecard=Scorecard.from_arrays(arrays, "scorecard"),
    )


def _check_checksum(folder: Path, data: bytes, card: dict[str, Any]) -> None:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    expected = str(card.get("artifact", {}).get("sha256", ""))
    listed = ""
    if (folder / CHECKSUM_FILE).is_file():
        listed = (folder / CHECKSUM_FILE).read_text().split()[0]
    if digest != expected or (listed and listed != digest):
        raise ModelMismatch(
            f"{ARTIFACT_FILE} in {folder} has sha256 {digest[:12]}..., but the card says "
            f"{expected[:12] or 'nothing'}... and {CHECKSUM_FILE} says "
            f"{listed[:12] or 'nothing'}...: "
            "the artifact was changed or truncated; retrain or restore all three files together"
        )


def _check_format(card: dict[str, Any]) -> None:
    found = card.get("artifact", {}).get("format")
    if found != FORMAT_VERSION:
        raise ModelMismatch(
            f"artifact format {found} is not supported; this code reads format {FORMAT_VERSION}"
        )


def _check_sklearn(card: dict[str, Any]) -> None:
    trained = card.get("libraries", {}).get("scikit-learn")
    try:
        installed = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        return  # scoring needs numpy only; the check applies where scikit-learn is present
    if trained and installed != trained:
        raise ModelMismatch(
            f"model was trained with scikit-learn {trained} but {installed} is installed; "
            f"install scikit-learn=={trained} or retrain with `intercept train`"
        )


def _check_schema(spec: dict[str, Any], card: dict[str, Any]) -> None:
    features = list(spec.get("features", []))
    if features != list(card.get("features", [])):
        raise ModelMismatch(
            "the artifact's features differ from its card's; restore both files together"
        )
    if spec.get("kind") != "signals":
        return
    expected = list(SIGNAL_NAMES)
    trained = list(spec.get("signals", []))
    if trained != expected or features[: len(expected)] != expected:
        missing = sorted(set(expected) - set(trained))
        extra = sorted(set(trained) - set(expected))
        raise ModelMismatch(
            f"feature schema mismatch: the model was trained on signals {trained[:3]}... "
            f"(missing here: {extra or 'none'}; new here: {missing or 'none'}; or a different "
            "order); retrain with `intercept train`"
        )


@lru_cache(maxsize=4)
def load_packaged(path: str | None = None) -> ChurnModel:
    """`ChurnModel.load` cached per process: call it from handlers, once per container."""
    return ChurnModel.load(path)
