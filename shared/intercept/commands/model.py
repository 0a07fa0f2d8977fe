"""`intercept generate` and `intercept train`: a synthetic world, and models with their cards."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

from intercept.errors import BadRequest

PACKAGED_MODEL_DIR = Path("model") / "intercept_model"


def register(subparsers: Any) -> None:
    generate = subparsers.add_parser(
        "generate",
        help="generate a seeded synthetic world with known churn drivers and vendor payloads",
    )
    generate.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    generate.add_argument(
        "--accounts", type=int, default=60, help="number of accounts (default 60)"
    )
    generate.add_argument("--days", type=int, default=90, help="days simulated (default 90)")
    generate.add_argument(
        "--start", type=date.fromisoformat, default=None, help="first day, YYYY-MM-DD"
    )
    generate.add_argument(
        "--driver-rate",
        type=float,
        default=1.0,
        help="multiplier of how often churn and expansion drivers start (default 1.0)",
    )
    generate.add_argument("--out", type=Path, required=True, help="folder to write the world to")
    generate.add_argument(
        "--no-payloads", action="store_true", help="skip requests.jsonl.gz (the vendor payloads)"
    )
    generate.set_defaults(func=run_generate)

    train = subparsers.add_parser(
        "train",
        help="train, calibrate and card a churn model (from a world, the profile store, or a CSV)",
    )
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--world", type=Path, help="a folder written by `intercept generate`")
    source.add_argument("--from-store", action="store_true", help="read the profiles table")
    source.add_argument("--csv", type=Path, help="a table with one row per customer")
    train.add_argument("--label", help="label column of --csv (yes/no, true/false or 1/0)")
    train.add_argument("--id", dest="id_column", help="id column of --csv (not a feature)")
    train.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default {PACKAGED_MODEL_DIR})"
    )
    train.add_argument("--seed", type=int, default=0, help="seed of splits and models (default 0)")
    train.set_defaults(func=run_train)


def run_generate(args: argparse.Namespace) -> int:
    from intercept.model.synthetic import generate_world

    try:
        world = generate_world(args.seed, args.accounts, args.days, args.start, args.driver_rate)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    summary = world.save(args.out, payloads=not args.no_payloads)
    print(json.dumps(summary, indent=2))
    return 0


def run_train(args: argparse.Namespace) -> int:
    try:
        card = _train(args)
    except (ValueError, FileNotFoundError) as exc:
        raise BadRequest(str(exc)) from exc
    _print_card(card)
    return 0


def _train(args: argparse.Namespace) -> dict[str, Any]:
    if args.csv is not None:
        from intercept.model.tabular import train_csv

        if not args.label:
            raise ValueError(
                "--csv needs --label COLUMN (the churn column: yes/no, true/false or 1/0)"
            )
        if not args.csv.is_file():
            raise FileNotFoundError(f"--csv {args.csv} does not exist")
        out = args.out or Path(".intercept") / "models" / args.csv.stem
        return train_csv(args.csv, args.label, out, args.id_column, args.seed)
    if args.label or args.id_column:
        raise ValueError("--label and --id apply to --csv only")

    from intercept.model.training import train_from_records

    out = args.out or PACKAGED_MODEL_DIR
    if args.world is not None:
        from intercept.model.synthetic import load_world_records

        accounts, activity = load_world_records(args.world)
        source = f"synthetic world {args.world.name} ({_world_params(args.world)})"
        return train_from_records(accounts, activity, out, source, args.seed)
    accounts, activity = store_records()
    return train_from_records(accounts, activity, out, "profile store", args.seed)


def _world_params(folder: Path) -> str:
    path = folder / "world.json"
    if not path.is_file():
        return "parameters unknown"
    info = json.loads(path.read_text())
    return f"seed {info.get('seed')}, {info.get('accounts')} accounts, {info.get('days')} days"


def store_records(store: Any = None) -> tuple[list[Any], dict[str, list[Any]]]:
    """Every account and all its daily activity from the profile store (or a stand-in)."""
    if store is None:
        from intercept.profiles import store

    ids = list(store.iter_account_ids())
    accounts = list(store.get_accounts(ids).values())
    today = date.today()
    activity = {
        a.account_id: store.get_daily_activity(a.account_id, date(1970, 1, 1), today)
        for a in accounts
    }
    return accounts, activity


def _print_card(card: dict[str, Any]) -> None:
    metrics = card.get("metrics", {})
    summary = {
        "model_version": card.get("model_version"),
        "published": card.get("published"),
        "reason": card.get("decision", {}).get("reason"),
        "roc_auc": metrics.get("roc_auc"),
        "pr_auc": metrics.get("pr_auc"),
        "brier": metrics.get("brier"),
        "baseline_roc_auc": card.get("baselines", {}).get("logistic_regression", {}).get("roc_auc"),
        "artifact_sha256": card.get("artifact", {}).get("sha256"),
    }
    print(json.dumps(summary, indent=2))
