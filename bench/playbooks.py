"""Playbook and Dispatch figures.

- `playbooks_decide_per_second`: `decide` over the packaged playbooks for varied scores.
- `dispatch_render_slack_per_second`: Block Kit renderings of an action.
- `dispatch_deliveries_per_second_moto`: SQS records through the dispatch handler end to end
  (idempotency check, Slack POST to a loopback receiver, action record in DynamoDB), on moto
  in-process, batches of 10.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def _scores(count: int) -> list[tuple[Any, Any]]:
    from intercept.records import Account, NextBestAction, Reason, Score

    rng = random.Random(7)
    tiers = ["healthy", "watch", "at_risk", "critical"]
    pairs = []
    for i in range(count):
        churn = rng.random()
        pairs.append(
            (
                Score(
                    account_id=f"acct_{i}",
                    as_of=AS_OF,
                    model_version="bench",
                    churn_30=churn,
                    churn_60=churn,
                    churn_90=churn,
                    health=rng.randint(0, 100),
                    tier=tiers[min(3, int(churn * 4))],
                    expansion=rng.random(),
                    reasons=[Reason(signal="s", value=1, baseline=2, effect=0.1, sentence="x")],
                    next_best_action=NextBestAction(action="Call."),
                ),
                Account(
                    account_id=f"acct_{i}",
                    arr=rng.choice([None, 20_000.0, 90_000.0, 350_000.0]),
                    owner="csm@vendor.example",
                    traits={"contact_email": "a@c.example"},
                ),
            )
        )
    return pairs


def _decide_rate() -> float:
    from intercept.playbooks.config import load_playbooks
    from intercept.playbooks.decide import decide

    config = load_playbooks("")
    pairs = _scores(5000)
    started = time.perf_counter()
    for score, account in pairs:
        decide(score, account, None, playbooks=config)
    return len(pairs) / (time.perf_counter() - started)


def _sample_action() -> Any:
    from intercept.dispatch.service import parse_action

    event = json.loads((ROOT / "events" / "dispatch_sqs_slack.json").read_text())
    return event, parse_action(event["Records"][0]["body"])


def _render_rate() -> float:
    from intercept.dispatch.slack import render_slack

    _, action = _sample_action()
    rounds = 5000
    started = time.perf_counter()
    for _ in range(rounds):
        render_slack(action, "alert")
    return rounds / (time.perf_counter() - started)


def _delivery_rate() -> float:
    import boto3
    from moto import mock_aws

    from intercept.aws import reset_clients
    from intercept.local.runtime import LambdaContext
    from intercept.local.sinks import Sink
    from intercept.local.template import load_template
    from intercept.observability import logger
    from intercept.settings import reset_settings

    logger.setLevel("ERROR")

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sink = Sink("slack")
    sink.start()
    event, action = _sample_action()
    record = event["Records"][0]
    resources = load_template(ROOT / "template.yaml")["Resources"]
    try:
        with mock_aws():
            reset_clients()
            for logical_id, name in (("ProfilesTable", "p"), ("IdempotencyTable", "i")):
                properties = resources[logical_id]["Properties"]
                extra = {}
                if "GlobalSecondaryIndexes" in properties:
                    extra["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
                boto3.client("dynamodb").create_table(
                    TableName=name,
                    AttributeDefinitions=properties["AttributeDefinitions"],
                    KeySchema=properties["KeySchema"],
                    BillingMode="PAY_PER_REQUEST",
                    **extra,
                )
            os.environ.update(
                PROFILES_TABLE="p", IDEMPOTENCY_TABLE="i", INTERCEPT_SLACK_WEBHOOK_URL=sink.url
            )
            os.environ.pop("SECRET_ID", None)
            reset_settings()
            spec = importlib.util.spec_from_file_location(
                "dispatch_app", ROOT / "functions" / "dispatch" / "app.py"
            )
            assert spec is not None and spec.loader is not None
            app = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(app)
            context = LambdaContext("dispatch", 512, 30, "arn:aws:lambda:::function:dispatch")
            batches, size = 20, 10
            started = time.perf_counter()
            for b in range(batches):
                records = []
                for i in range(size):
                    unique = action.model_copy(update={"action_id": f"bench-{b}-{i}"})
                    records.append(
                        {**record, "messageId": f"m-{b}-{i}", "body": unique.model_dump_json()}
                    )
                app.handler({"Records": records}, context)
            elapsed = time.perf_counter() - started
            assert len(sink.deliveries) == batches * size
    finally:
        sink.stop()
        reset_clients()
        reset_settings()
    return batches * size / elapsed


def run() -> dict[str, float | int | str]:
    return {
        "playbooks_decide_per_second": round(_decide_rate()),
        "dispatch_render_slack_per_second": round(_render_rate()),
        "dispatch_deliveries_per_second_moto": round(_delivery_rate(), 1),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name} = {value}")
