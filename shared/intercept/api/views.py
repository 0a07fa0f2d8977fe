"""Read views for people who act: the CSM's ranked list, the portfolio, recent actions.

- ``GET /accounts``: latest scores ranked by expected ARR loss (churn_30 x ARR), highest
  first; ``owner``, ``tier`` (comma-separated) and ``limit`` (1-500, default 50) narrow it.
- ``GET /portfolio``: tier distribution, ARR at risk, expected churned ARR in 30 days
  (sum of churn_30 x ARR) and workload per CSM.
- ``GET /actions``: newest actions with their delivery status; ``limit``, ``status`` and
  ``account_id`` narrow it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from intercept.errors import BadRequest
from intercept.records import Score, Tier

router = APIGatewayHttpRouter()

TIERS: tuple[Tier, ...] = ("healthy", "watch", "at_risk", "critical")
AT_RISK_TIERS = frozenset({"at_risk", "critical"})
ACTION_STATUSES = (
    "published",
    "held_out",
    "sent",
    "retrying",
    "rejected",
    "not_configured",
    "skipped",
)
MAX_LIMIT = 500
TOP_REASONS = 3


def _limit(value: str | None, default: int = 50) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise BadRequest(
            f"limit {value!r} is not a whole number from 1 to {MAX_LIMIT}",
            accepted=f"1-{MAX_LIMIT}",
        )
    return int(value)


def _tiers(value: str | None) -> set[str] | None:
    if not value:
        return None
    chosen = {part.strip() for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - set(TIERS))
    if unknown:
        raise BadRequest(
            f"tier {', '.join(unknown)} is not known; use one or more of {', '.join(TIERS)}",
            accepted=list(TIERS),
        )
    return chosen


# ---------------------------------------------------------------------- data access
def _score_items(owner: str | None = None) -> Iterator[dict[str, Any]]:
    """Latest-score items, highest expected loss first (the scoring store's ranking)."""
    from intercept.scoring.store import latest_score_items

    return latest_score_items(owner)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    score = Score.model_validate_json(item["score"])
    arr = score.arr
    reasons = sorted(score.reasons, key=lambda reason: reason.effect, reverse=True)
    return {
        "account_id": score.account_id,
        "name": item.get("account_name"),
        "owner": item.get("owner"),
        "arr": arr,
        "churn_30": score.churn_30,
        "churn_90": score.churn_90,
        "health": score.health,
        "tier": score.tier,
        "expansion": score.expansion,
        "expected_loss_30d": round(score.churn_30 * arr, 2) if arr is not None else None,
        "reasons": [
            {"signal": r.signal, "value": r.value, "baseline": r.baseline, "sentence": r.sentence}
            for r in reasons[:TOP_REASONS]
        ],
        "recommended_action": (
            score.next_best_action.action if score.next_best_action is not None else None
        ),
        "as_of": score.as_of.isoformat(),
        "model_version": score.model_version,
    }


# ---------------------------------------------------------------------- views
def ranked_accounts(
    limit: int = 50, owner: str | None = None, tiers: set[str] | None = None
) -> list[dict[str, Any]]:
    """The ranked list: accounts by expected ARR loss in 30 days, highest first."""
    rows: list[dict[str, Any]] = []
    for item in _score_items(owner):
        if tiers and item.get("tier") not in tiers:
            continue
        rows.append({"rank": len(rows) + 1, **_row(item)})
        if len(rows) >= limit:
            break
    return rows


def _empty_owner() -> dict[str, Any]:
    return {"accounts": 0, "at_risk": 0, "arr": 0.0, "arr_at_risk": 0.0, "expected_loss_30d": 0.0}


def portfolio(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Portfolio figures over ranked rows (see `ranked_accounts`); pure, for reuse."""
    tiers = {tier: {"accounts": 0, "arr": 0.0} for tier in TIERS}
    owners: dict[str, dict[str, Any]] = {}
    totals = {"arr": 0.0, "arr_at_risk": 0.0, "expected_loss_30d": 0.0, "unknown_arr": 0}
    for row in rows:
        arr = row["arr"] or 0.0
        at_risk = row["tier"] in AT_RISK_TIERS
        expected = row["churn_30"] * arr
        tiers[row["tier"]]["accounts"] += 1
        tiers[row["tier"]]["arr"] += arr
        totals["arr"] += arr
        totals["arr_at_risk"] += arr if at_risk else 0.0
        totals["expected_loss_30d"] += expected
        totals["unknown_arr"] += row["arr"] is None
        owner = owners.setdefault(row["owner"] or "unassigned", _empty_owner())
        owner["accounts"] += 1
        owner["at_risk"] += at_risk
        owner["arr"] += arr
        owner["arr_at_risk"] += arr if at_risk else 0.0
        owner["expected_loss_30d"] += expected
    workload = [
        {"owner": name, **{k: round(v, 2) for k, v in figures.items()}}
        for name, figures in owners.items()
    ]
    workload.sort(key=lambda entry: (-entry["expected_loss_30d"], entry["owner"]))
    return {
        "accounts": len(rows),
        "arr": round(totals["arr"], 2),
        "arr_at_risk": round(totals["arr_at_risk"], 2),
        "expected_churned_arr_30d": round(totals["expected_loss_30d"], 2),
        "accounts_without_arr": totals["unknown_arr"],
        "tiers": {name: {**t, "arr": round(t["arr"], 2)} for name, t in tiers.items()},
        "workload": workload,
        "as_of": max((row["as_of"] for row in rows), default=None),
    }


@router.get("/accounts")
def list_accounts() -> dict[str, Any]:
    params = router.current_event.query_string_parameters or {}
    rows = ranked_accounts(
        limit=_limit(params.get("limit")),
        owner=params.get("owner") or None,
        tiers=_tiers(params.get("tier")),
    )
    return {"accounts": rows, "count": len(rows)}


@router.get("/portfolio")
def get_portfolio() -> dict[str, Any]:
    # Limitation: the portfolio reads every latest-score item on each request; a stored
    # rollup would be needed well beyond tens of thousands of accounts.
    rows = [_row(item) for item in _score_items()]
    return portfolio(rows)


@router.get("/actions")
def list_actions() -> dict[str, Any]:
    from intercept.playbooks.store import ActionStore

    params = router.current_event.query_string_parameters or {}
    status = params.get("status") or None
    if status is not None and status not in ACTION_STATUSES:
        raise BadRequest(
            f"status {status!r} is not known; use one of {', '.join(ACTION_STATUSES)}",
            accepted=list(ACTION_STATUSES),
        )
    records = ActionStore.from_settings().recent_actions(
        _limit(params.get("limit")), account_id=params.get("account_id") or None, status=status
    )
    actions = [
        {
            **record.action.model_dump(mode="json"),
            **record.model_dump(mode="json", exclude={"action", "message"}),
            "message": json.loads(record.message) if record.message else None,
        }
        for record in records
    ]
    return {"actions": actions, "count": len(actions)}
