"""`intercept accounts`, `intercept portfolio`, `intercept actions`: the read API from a shell.

They call a running read API through `intercept.commands.http` (``--api-url``, default
INTERCEPT_API_URL, else http://127.0.0.1:3000; bearer token from INTERCEPT_API_KEY).
``--json`` prints the API's answer as is.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from intercept.commands.http import ApiAnswered, ApiUnreachable, add_api_options, request_json


def register(subcommands: Any) -> None:
    accounts = subcommands.add_parser("accounts", help="accounts ranked by risk x ARR")
    accounts.add_argument("--owner", help="only this CSM's accounts (owner e-mail or handle)")
    accounts.add_argument("--tier", help="healthy, watch, at_risk, critical (comma-separated)")
    accounts.add_argument("--limit", type=int, default=20, help="rows to show (20)")
    add_api_options(accounts)
    accounts.set_defaults(func=_accounts)

    portfolio = subcommands.add_parser("portfolio", help="risk distribution and ARR at risk")
    add_api_options(portfolio)
    portfolio.set_defaults(func=_portfolio)

    actions = subcommands.add_parser("actions", help="recent actions and their delivery status")
    actions.add_argument("--status", help="e.g. sent, rejected, held_out, not_configured")
    actions.add_argument("--account", help="only this account's actions")
    actions.add_argument("--limit", type=int, default=20, help="rows to show (20)")
    add_api_options(actions)
    actions.set_defaults(func=_actions)


def fetch(api_url: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET a read-API path and return its JSON; exits with a readable message on failure."""
    try:
        return request_json(api_url, "GET", path, params)
    except ApiAnswered as exc:
        raise SystemExit(f"intercept: {path} answered {exc.status}: {exc.detail}") from exc
    except ApiUnreachable as exc:
        raise SystemExit(
            f"intercept: cannot reach the read API at {api_url} ({exc.cause}); start "
            "`intercept serve` or pass --api-url"
        ) from exc


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


def _table(headers: list[str], rows: list[list[str]], widths: list[int]) -> str:
    def line(cells: list[str]) -> str:
        return "  ".join(
            (cell if len(cell) <= width else cell[: width - 1] + "…").ljust(width)
            for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def format_accounts(answer: dict[str, Any]) -> str:
    rows = [
        [
            str(row["rank"]),
            row.get("name") or row["account_id"],
            _money(row.get("arr")),
            f"{row['churn_30'] * 100:.0f}%",
            str(row["health"]),
            row["reasons"][0]["sentence"] if row.get("reasons") else "-",
            row.get("recommended_action") or "-",
            row.get("owner") or "-",
        ]
        for row in answer["accounts"]
    ]
    headers = ["#", "account", "ARR", "churn", "health", "top reason", "next step", "owner"]
    return _table(headers, rows, [3, 22, 10, 5, 6, 40, 36, 24])


def format_portfolio(answer: dict[str, Any]) -> str:
    lines = [
        f"accounts {answer['accounts']}   ARR {_money(answer['arr'])}   "
        f"ARR at risk {_money(answer['arr_at_risk'])}   "
        f"expected churned ARR (30 days) {_money(answer['expected_churned_arr_30d'])}",
        "",
    ]
    tiers = [[name, str(t["accounts"]), _money(t["arr"])] for name, t in answer["tiers"].items()]
    lines += [_table(["tier", "accounts", "ARR"], tiers, [10, 8, 14]), ""]
    workload = [
        [
            w["owner"],
            str(w["accounts"]),
            str(w["at_risk"]),
            _money(w["arr_at_risk"]),
            _money(w["expected_loss_30d"]),
        ]
        for w in answer["workload"]
    ]
    headers = ["owner", "accounts", "at risk", "ARR at risk", "expected loss"]
    lines.append(_table(headers, workload, [28, 8, 7, 14, 14]))
    return "\n".join(lines)


def format_actions(answer: dict[str, Any]) -> str:
    rows = [
        [
            action["decided_at"][:16].replace("T", " "),
            action.get("account_name") or action["account_id"],
            action["playbook"],
            action["channel"],
            action["recipient_role"],
            action["priority"],
            action["status"],
        ]
        for action in answer["actions"]
    ]
    headers = ["decided (UTC)", "account", "playbook", "channel", "to", "priority", "status"]
    return _table(headers, rows, [16, 22, 18, 7, 17, 8, 14])


def _show(args: argparse.Namespace, answer: Any, formatter: Any) -> int:
    print(json.dumps(answer, indent=2) if args.json else formatter(answer))
    sys.stdout.flush()
    return 0


def _accounts(args: argparse.Namespace) -> int:
    params = {"limit": args.limit, "owner": args.owner, "tier": args.tier}
    return _show(args, fetch(args.api_url, "/accounts", params), format_accounts)


def _portfolio(args: argparse.Namespace) -> int:
    return _show(args, fetch(args.api_url, "/portfolio"), format_portfolio)


def _actions(args: argparse.Namespace) -> int:
    params = {"limit": args.limit, "status": args.status, "account_id": args.account}
    return _show(args, fetch(args.api_url, "/actions", params), format_actions)
