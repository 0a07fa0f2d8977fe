"""Every sample event in `events/` is a valid event of a trigger its function really has.

File names start with the function they are for (`ingest_`, `merge_`, `score_`, `planner_`,
`dispatch_`, `api_`). Each file is checked against the template's wiring and then invoked
through the local runtime, which is also what `intercept invoke` does with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEventV2,
    DynamoDBStreamEvent,
    EventBridgeEvent,
    SQSEvent,
)

from intercept.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
EVENT_FILES = sorted((ROOT / "events").glob("*.json"))
FUNCTIONS = {
    "ingest": "IngestFunction",
    "merge": "MergeFunction",
    "score": "ScoreFunction",
    "planner": "PlannerFunction",
    "dispatch": "DispatchFunction",
    "api": "ApiFunction",
}
TRIGGERS = {"HttpApi": "http", "SQS": "sqs", "DynamoDB": "dynamodb", "Schedule": "schedule"}


def _function_for(path: Path) -> str:
    prefix = path.stem.split("_", 1)[0]
    assert prefix in FUNCTIONS, f"{path.name}: name must start with one of {sorted(FUNCTIONS)}"
    return FUNCTIONS[prefix]


def _trigger_of(event: dict[str, Any]) -> str:
    """Classify an event by reading the fields its trigger type must carry."""
    if event.get("version") == "2.0":
        parsed = APIGatewayProxyEventV2(event)
        assert parsed.route_key and parsed.raw_path and parsed.request_context.http.method
        return "http"
    if event.get("detail-type") == "Scheduled Event":
        assert EventBridgeEvent(event).source == "aws.events"
        return "schedule"
    records = event["Records"]
    assert records, "a batch event needs at least one record"
    if records[0]["eventSource"] == "aws:sqs":
        assert all(r.message_id and r.receipt_handle for r in SQSEvent(event).records)
        return "sqs"
    assert all(r.dynamodb and r.dynamodb.keys for r in DynamoDBStreamEvent(event).records)
    return "dynamodb"


def _declared_sources(function: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    sources: dict[str, list[dict[str, Any]]] = {}
    for declared in function["Properties"].get("Events", {}).values():
        sources.setdefault(TRIGGERS[declared["Type"]], []).append(declared["Properties"])
    return sources


def test_events_folder_covers_every_function() -> None:
    covered = {_function_for(path) for path in EVENT_FILES}

    assert covered == set(FUNCTIONS.values())


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.name for p in EVENT_FILES])
def test_event_matches_a_trigger_of_its_function(path: Path) -> None:
    template = load_template(ROOT / "template.yaml")
    function = template["Resources"][_function_for(path)]
    event = json.loads(path.read_text())

    trigger = _trigger_of(event)

    sources = _declared_sources(function)
    assert trigger in sources, f"{path.name} is a {trigger} event; the function has {sources}"
    if trigger == "http":
        routes = {f"{s['Method']} {s['Path']}" for s in sources["http"]}
        assert event["routeKey"] in routes
    if trigger == "sqs":
        queues = {s["Queue"]["Fn::GetAtt"][0] for s in sources["sqs"]}
        arn_queue = event["Records"][0]["eventSourceARN"].rsplit("-", 1)[-1]
        assert arn_queue in queues


@pytest.mark.parametrize("path", EVENT_FILES, ids=[p.name for p in EVENT_FILES])
def test_event_invokes_its_function_without_server_error(runtime: Any, path: Path) -> None:
    event = json.loads(path.read_text())

    result = runtime.invoke(_function_for(path), event)

    if _trigger_of(event) == "http":
        assert 200 <= result["statusCode"] < 500, result
        json.loads(result["body"])
    elif _trigger_of(event) in ("sqs", "dynamodb"):
        assert isinstance(result["batchItemFailures"], list)
