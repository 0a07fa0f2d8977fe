"""GET /accounts, /portfolio and /actions over score items written by the scoring store, and
the `intercept accounts|portfolio|actions` commands against a live HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from intercept.api.views import router
from intercept.commands.views import format_accounts, format_actions, format_portfolio
from intercept.local.template import load_template
from intercept.playbooks.store import ActionStore
from intercept.records import Account, Action, NextBestAction, Reason, Score
from intercept.scoring.store import put_scores
from intercept.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
PORTFOLIO = [
    # account, tier, churn_30, arr, owner
    ("a1", "critical", 0.70, 300_000.0, "dana@vendor.example"),
    ("a2", "at_risk", 0.40, 50_000.0, "dana@vendor.example"),
    ("a3", "watch", 0.20, 500_000.0, "lee@vendor.example"),
    ("a4", "healthy", 0.02, 80_000.0, "lee@vendor.example"),
    ("a5", "at_risk", 0.35, None, None),
]


def _score(account_id: str, tier: str, churn: float, arr: float | None) -> Score:
    return Score(
        account_id=account_id,
        as_of=AS_OF,
        model_version="m1",
        churn_30=churn,
        churn_60=min(1.0, churn + 0.05),
        churn_90=min(1.0, churn + 0.1),
        health=int(100 - churn * 100),
        tier=tier,
        expansion=0.1,
        arr=arr,
        reasons=[
            Reason(signal="logins_7d", value=2, baseline=9, effect=0.2, sentence="Logins fell."),
            Reason(signal="seats", value=10, baseline=10, effect=-0.05, sentence="Seats steady."),
        ],
        next_best_action=NextBestAction(action=f"Call {account_id}."),
    )


@pytest.fixture
def api(aws: None, monkeypatch: pytest.MonkeyPatch) -> APIGatewayHttpResolver:
    properties = load_template(ROOT / "template.yaml")["Resources"]["ProfilesTable"]["Properties"]
    boto3.client("dynamodb").create_table(
        TableName="profiles",
        AttributeDefinitions=properties["AttributeDefinitions"],
        KeySchema=properties["KeySchema"],
        GlobalSecondaryIndexes=properties["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("PROFILES_TABLE", "profiles")
    reset_settings()
    scores = [_score(a, tier, churn, arr) for a, tier, churn, arr, _ in PORTFOLIO]
    accounts = {
        a: Account(account_id=a, name=f"Account {a}", arr=arr, owner=owner)
        for a, _, _, arr, owner in PORTFOLIO
    }
    put_scores(scores, accounts)
    resolver = APIGatewayHttpResolver()
    resolver.include_router(router)
    return resolver


def _get(api: APIGatewayHttpResolver, path: str, query: dict[str, str] | None = None) -> Any:
    event = {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "headers": {},
        "requestContext": {
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
            },
            "requestId": "r",
            "routeKey": f"GET {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    answer = api.resolve(event, None)
    return answer["statusCode"], json.loads(answer["body"])


def test_accounts_are_ranked_by_expected_arr_loss(api: APIGatewayHttpResolver) -> None:
    status, body = _get(api, "/accounts")

    assert status == 200
    assert [row["account_id"] for row in body["accounts"]] == ["a1", "a3", "a2", "a4", "a5"]
    top = body["accounts"][0]
    assert top["rank"] == 1
    assert top["name"] == "Account a1" and top["owner"] == "dana@vendor.example"
    assert top["expected_loss_30d"] == pytest.approx(210_000)
    assert top["reasons"][0]["sentence"] == "Logins fell."
    assert top["recommended_action"] == "Call a1."


def test_accounts_filter_by_owner_tier_and_limit(api: APIGatewayHttpResolver) -> None:
    _, mine = _get(api, "/accounts", {"owner": "dana@vendor.example"})
    _, risky = _get(api, "/accounts", {"tier": "at_risk,critical", "limit": "2"})

    assert [row["account_id"] for row in mine["accounts"]] == ["a1", "a2"]
    assert [row["account_id"] for row in risky["accounts"]] == ["a1", "a2"]


@pytest.mark.parametrize(
    ("query", "accepted"),
    [({"limit": "0"}, "1-500"), ({"tier": "doomed"}, ["healthy", "watch", "at_risk", "critical"])],
)
def test_accounts_refuse_bad_parameters(
    api: APIGatewayHttpResolver, query: dict[str, str], accepted: Any
) -> None:
    from intercept.errors import BadRequest

    with pytest.raises(BadRequest) as raised:
        _get(api, "/accounts", query)

    assert raised.value.context["accepted"] == accepted


def test_portfolio_sums_risk_and_workload(api: APIGatewayHttpResolver) -> None:
    status, body = _get(api, "/portfolio")

    assert status == 200
    assert body["accounts"] == 5
    assert body["arr"] == 930_000
    assert body["arr_at_risk"] == 350_000
    assert body["expected_churned_arr_30d"] == pytest.approx(
        0.7 * 300_000 + 0.4 * 50_000 + 0.2 * 500_000 + 0.02 * 80_000
    )
    assert body["accounts_without_arr"] == 1
    assert body["tiers"]["at_risk"] == {"accounts": 2, "arr": 50_000}
    owners = {entry["owner"]: entry for entry in body["workload"]}
    assert owners["dana@vendor.example"]["at_risk"] == 2
    assert owners["dana@vendor.example"]["arr_at_risk"] == 350_000
    assert owners["unassigned"]["accounts"] == 1
    assert body["workload"][0]["owner"] == "dana@vendor.example"


def _action(account_id: str, hours: int) -> Action:
    return Action(
        action_id=f"id-{account_id}",
        account_id=account_id,
        playbook="csm-risk-alert",
        channel="slack",
        recipient_role="owner",
        recipient="dana@vendor.example",
        churn_30=0.4,
        health=40,
        tier="at_risk",
        recommended_action="Call.",
        decided_at=AS_OF + timedelta(hours=hours),
    )


def test_actions_list_newest_first_with_status(api: APIGatewayHttpResolver) -> None:
    store = ActionStore.from_settings()
    store.record(_action("a1", 0), "published", AS_OF)
    store.record(_action("a2", 1), "published", AS_OF)
    store.update_delivery(_action("a1", 0), "sent", AS_OF, message='{"text": "hi"}')

    _, everything = _get(api, "/actions")
    _, sent = _get(api, "/actions", {"status": "sent"})

    assert [(a["account_id"], a["status"]) for a in everything["actions"]] == [
        ("a2", "published"),
        ("a1", "sent"),
    ]
    assert [a["message"] for a in sent["actions"]] == [{"text": "hi"}]


# ---------------------------------------------------------------------- CLI over HTTP
@pytest.fixture
def served(api: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The router behind a loopback HTTP server that insists on a bearer token."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            seen.append(self.headers.get("authorization", ""))
            parts = urlsplit(self.path)
            query = dict(pair.split("=", 1) for pair in parts.query.split("&") if pair)
            status, body = _get(api, parts.path, query or None)
            payload = json.dumps(body).encode()
            self.send_response(status if seen[-1] == "Bearer k1" else 401)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    monkeypatch.setenv("INTERCEPT_API_KEY", "k1,k2")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_cli_accounts_prints_the_ranked_table(
    served: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from intercept.cli import main

    code = main(["accounts", "--api-url", served, "--limit", "3"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0].split()[:4] == ["#", "account", "ARR", "churn"]
    assert "Account a1" in lines[2] and "$300,000" in lines[2] and "70%" in lines[2]
    assert len(lines) == 2 + 3


def test_cli_json_prints_the_api_answer(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    from intercept.cli import main

    main(["portfolio", "--api-url", served, "--json"])

    assert json.loads(capsys.readouterr().out)["accounts"] == 5


def test_cli_reports_an_unreachable_api() -> None:
    from intercept.cli import main

    with pytest.raises(SystemExit, match="cannot reach the read API"):
        main(["actions", "--api-url", "http://127.0.0.1:9"])


def test_formatters_render_every_view() -> None:
    accounts = {
        "accounts": [
            {
                "rank": 1,
                "account_id": "a",
                "name": None,
                "arr": None,
                "churn_30": 0.5,
                "health": 50,
                "reasons": [],
                "recommended_action": None,
                "owner": None,
            }
        ]
    }
    portfolio = {
        "accounts": 1,
        "arr": 0,
        "arr_at_risk": 0,
        "expected_churned_arr_30d": 0,
        "tiers": {"healthy": {"accounts": 1, "arr": 0}},
        "workload": [],
    }
    actions = {
        "actions": [
            {
                "decided_at": AS_OF.isoformat(),
                "account_id": "a",
                "playbook": "p",
                "channel": "slack",
                "recipient_role": "owner",
                "priority": "high",
                "status": "sent",
            }
        ]
    }

    assert "50%" in format_accounts(accounts)
    assert "expected churned ARR" in format_portfolio(portfolio)
    assert "2026-12-03 06:00" in format_actions(actions)
