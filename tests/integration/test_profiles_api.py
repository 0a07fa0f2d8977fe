"""The people and accounts routes of the read API, through a Powertools resolver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from intercept.api.people import router
from intercept.aws import client
from intercept.errors import InterceptError, error_body
from intercept.events import Billing
from intercept.profiles.fold import Folder
from intercept.profiles.store import ProfileStore
from intercept.profiles.verify import create_tables, fast_moto_transactions, make_event
from intercept.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def api(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[APIGatewayHttpResolver]:
    monkeypatch.setenv("PROFILES_TABLE", "profiles")
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "idempotency")
    reset_settings()
    resolver = APIGatewayHttpResolver()
    resolver.include_router(router)

    @resolver.exception_handler(InterceptError)
    def domain_error(error: InterceptError) -> Response:
        return Response(error.status, "application/json", json.dumps(error_body(error)))

    with fast_moto_transactions():
        create_tables(client("dynamodb"), ROOT, "profiles", "idempotency")
        Folder(ProfileStore.from_settings()).fold(
            [
                make_event(
                    0,
                    kind="identify",
                    person={"user_id": "u_1", "email": "ana@acme.io"},
                    traits={"name": "Ana"},
                ),
                make_event(
                    1,
                    kind="group",
                    person={"user_id": "u_1"},
                    account={"group_id": "acme"},
                    account_traits={"name": "Acme", "stripe_customer_id": "cus_9"},
                ),
                make_event(
                    2,
                    source="stripe",
                    kind="billing",
                    account={"stripe_customer": "cus_9"},
                    billing=Billing(plan="growth", mrr=250.0),
                ),
            ]
        )
        yield resolver


def _call(api: APIGatewayHttpResolver, method: str, raw_path: str) -> tuple[int, Any]:
    event = {
        "version": "2.0",
        "routeKey": f"{method} {raw_path}",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"host": "api.local"},
        "requestContext": {"http": {"method": method, "path": raw_path}, "stage": "$default"},
        "isBase64Encoded": False,
    }
    answer = api.resolve(event, None)  # type: ignore[arg-type]
    return answer["statusCode"], json.loads(answer["body"])


def test_get_person_by_encoded_email(api: APIGatewayHttpResolver) -> None:
    status, body = _call(api, "GET", "/people/email%3AAna%40acme.io")
    assert status == 200
    assert body["identifiers"] == ["email:ana@acme.io", "user_id:u_1"]
    assert body["traits"] == {"name": "Ana"} and body["accounts"] == ["acme"]


def test_get_account_by_id_and_by_identifier(api: APIGatewayHttpResolver) -> None:
    status, body = _call(api, "GET", "/accounts/acme")
    assert status == 200
    assert body["account"]["plan"] == "growth" and body["account"]["arr"] == 3000.0
    assert body["trait_sources"]["plan"]["source"] == "stripe"
    assert len(body["people"]) == 1
    status, same = _call(api, "GET", "/accounts/stripe_customer:cus_9")
    assert (status, same["account"]["account_id"]) == (200, "acme")


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/people/email:nobody@acme.io", 404, "not_found"),
        ("/people/phone:123", 400, "bad_request"),
        ("/people/u_1", 400, "bad_request"),
        ("/accounts/nowhere", 404, "not_found"),
    ],
)
def test_unknown_or_malformed_lookups(
    api: APIGatewayHttpResolver, path: str, status: int, error: str
) -> None:
    answer_status, body = _call(api, "GET", path)
    assert (answer_status, body["error"]) == (status, error)
    assert "nobody@acme.io" not in body["detail"]


def test_export_then_delete_person(api: APIGatewayHttpResolver) -> None:
    status, document = _call(api, "GET", "/people/user_id:u_1/export")
    assert status == 200 and document["identifiers"] == ["email:ana@acme.io", "user_id:u_1"]
    status, report = _call(api, "DELETE", "/people/user_id:u_1")
    assert status == 200 and report["identifiers_deleted"] == 2 and report["remains"]
    status, _ = _call(api, "GET", "/people/user_id:u_1")
    assert status == 404
