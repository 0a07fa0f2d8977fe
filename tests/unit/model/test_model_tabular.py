"""`intercept train --csv`: dtypes, blanks, label parsing and the errors users see."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from intercept.cli import main
from intercept.model.scoring import ChurnModel
from intercept.model.tabular import parse_label, train_csv


def _write_table(path: Path, rows: int = 1200, seed: int = 0, label: str = "Churn") -> Path:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["customerID", "tenure", "Contract", "TotalCharges", label])
        for i in range(rows):
            tenure = int(rng.integers(0, 72))
            contract = rng.choice(["Month-to-month", "One year", "Two year"])
            risk = -1.5 + (contract == "Month-to-month") * 1.5 - tenure / 30
            churn = rng.random() < 1 / (1 + np.exp(-risk))
            total = " " if tenure == 0 else f"{tenure * 50.5:.2f}"  # blanks, as in real exports
            writer.writerow([f"c{i}", tenure, contract, total, "Yes" if churn else "No"])
    return path


def test_csv_training_writes_a_carded_model(tmp_path: Path) -> None:
    table = _write_table(tmp_path / "table.csv")
    card = train_csv(table, "Churn", tmp_path / "out", id_column="customerID")
    assert card["metrics"]["roc_auc"] > 0.7
    assert card["data"]["rows"]["test"] == 300  # 25% held out
    assert "customerID" not in card["features"]
    assert "TotalCharges" in card["features"] and "Contract=Two year" in card["features"]
    model = ChurnModel.load(tmp_path / "out")
    rows = list(csv.DictReader(table.open()))
    p = model.predict_table(rows[:20])
    assert p.shape == (20,) and ((p >= 0) & (p <= 1)).all()


@pytest.mark.parametrize(
    ("values", "expected"),
    [(["Yes", "no", "YES"], [1, 0, 1]), (["1", "0", "0"], [1, 0, 0]), (["true", "False"], [1, 0])],
)
def test_labels_accept_yes_no_true_false_and_one_zero(
    values: list[str], expected: list[int]
) -> None:
    assert parse_label(values, "Churn").tolist() == expected


def test_unknown_label_values_name_the_column_and_the_accepted_values() -> None:
    with pytest.raises(ValueError, match=r"'Churn'.*'maybe'.*yes/no"):
        parse_label(["yes", "maybe", "no"], "Churn")


def test_constant_label_is_rejected() -> None:
    with pytest.raises(ValueError, match="constant"):
        parse_label(["no", "no"], "Churn")


def test_missing_label_column_is_a_cli_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = _write_table(tmp_path / "table.csv", rows=50)
    code = main(
        ["train", "--csv", str(table), "--label", "Cancelled", "--out", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "'Cancelled'" in err and "Churn" in err


def test_cli_trains_from_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = _write_table(tmp_path / "table.csv", rows=800, seed=2)
    out = tmp_path / "o"
    assert (
        main(
            [
                "train",
                "--csv",
                str(table),
                "--label",
                "Churn",
                "--id",
                "customerID",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert (
        printed["roc_auc"]
        == json.loads((out / "model_card.json").read_text())["metrics"]["roc_auc"]
    )


def test_telco_reference_reaches_the_published_baseline(
    reference_datasets: Path, tmp_path: Path
) -> None:
    card = train_csv(
        reference_datasets / "Telco-Customer-Churn.csv", "Churn", tmp_path, "customerID"
    )
    assert card["metrics"]["roc_auc"] >= 0.83
