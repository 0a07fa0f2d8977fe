"""`intercept accounts`, `intercept portfolio`, `intercept actions`: the read API from a shell.

They call a running read API (`intercept serve` locally, or the deployed ReadApiUrl) over
HTTP with urllib: ``--api-url`` (default INTERCEPT_API_URL, else http://127.0.0.1:3000) and a
bearer token from INTERCEPT_API_KEY (the first key when several are listed). ``--json``
prints the API's answer as is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

DEFAULT_API_URL = "http://127.0.0.1:3000"
TIMEOUT_SECONDS = 15


def register(subcommands: Any) -> None:
    accounts = subcommands.add_parser("accounts", help="accounts ranked by risk x ARR")
    accounts.add_argument("--owner", help="only this CSM's accounts (owner e-mail or handle)")
    accounts.add_argument("--tier", help="healthy, watch, at_risk, critical (comma-separated)")
    accounts.add_argument("--limit", type=int, default=20, help="rows to show (20)")
    _common(accounts)
    accounts.set_defaults(func=_accounts)

    portfolio = subcommands.add_parser("portfolio", help="risk distribution and ARR at risk")
    _common(portfolio)
    portfolio.set_defaults(func=_portfolio)

    actions = subcommands.add_parser("actions", help="recent actions and their delivery status")
    actions.add_argument("--status", help="e.g. sent, rejected, held_out, not_configured")
    actions.add_argument("--account", help="only this account's actions")
    actions.add_argument("--limit", type=int, default=20, help="rows to show (20)")
    _common(actions)
    actions.set_defaults(func=_actions)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url",
        default=os.environ.get("INTERCEPT_API_URL") or DEFAULT_API_URL,
        help="read API base URL (INTERCEPT_API_URL, else http://127.0.0.1:3000)",
    )
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")


def fetch(api_url: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET a read-API path and return its JSON; exits with a readable message on failure."""
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    url = api_url.rstrip("/") + path + (f"?{query}" if query else "")
    headers = {"Accept": "application/json", "User-Agent": "intercept-cli/1"}
    token = (os.environ.get("INTERCEPT_API_KEY") or "").split(",")[0].strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = _error_detail(exc)
        raise SystemExit(f"intercept: {path} answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SystemExit(
            f"intercept: cannot reach the read API at {api_url} ({exc}); start `intercept serve` "
            "or pass --api-url"
        ) from exc


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        return exc.reason or "no detail"
    return str(body.get("detail") or body.get("error") or exc.reason)


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
