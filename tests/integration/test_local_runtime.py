"""The local runtime delivers events the way AWS does, and wiring mistakes fail locally.

These tests run a small template of their own (written to a temporary folder) so that each
delivery rule is checked in isolation from the product's handlers.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import boto3
import pytest

from intercept.local.runtime import LocalRuntime
from intercept.local.template import TemplateError

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: t}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Environment:
      Variables:
        RECORD_FILE: !Sub "@RECORD_FILE@"
        TABLE: !Ref Table
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: PK, AttributeType: S}
        - {AttributeName: SK, AttributeType: S}
      KeySchema:
        - {AttributeName: PK, KeyType: HASH}
        - {AttributeName: SK, KeyType: RANGE}
      StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
  DLQ:
    Type: AWS::SQS::Queue
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy: {deadLetterTargetArn: !GetAtt DLQ.Arn, maxReceiveCount: 2}
  Web:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: web.handler
      Environment: {Variables: {ONLY_WEB: "yes", QUEUE: !Ref Work}}
      Events:
        Get:
          Type: HttpApi
          Properties: {Method: GET, Path: "/items/{item_id}"}
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: worker.handler
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 4
            FunctionResponseTypes: [ReportBatchItemFailures]
  Watcher:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: watcher.handler
      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
            BatchSize: 10
            FilterCriteria:
              Filters:
                - Pattern: '{"dynamodb": {"Keys": {"SK": {"S": [{"prefix": "DAY#"}]}}}}'
        Nightly:
          Type: Schedule
          Properties: {Schedule: "rate(1 day)"}
"""

HANDLERS = {
    "web.py": """
        import json, os
        def handler(event, context):
            return {"statusCode": 200, "body": json.dumps({
                "item": event["pathParameters"]["item_id"],
                "route": event["routeKey"],
                "only_web": os.environ.get("ONLY_WEB"),
                "queue": os.environ["QUEUE"],
                "function": context.function_name,
            })}
    """,
    "worker.py": """
        import json, os
        def handler(event, context):
            failures = []
            with open(os.environ["RECORD_FILE"], "a") as out:
                for record in event["Records"]:
                    body = json.loads(record["body"])
                    out.write(json.dumps({"who": "worker", "body": body,
                        "only_web": os.environ.get("ONLY_WEB")}) + "\\n")
                    if body.get("fail"):
                        failures.append({"itemIdentifier": record["messageId"]})
            return {"batchItemFailures": failures}
    """,
    "watcher.py": """
        import json, os
        def handler(event, context):
            with open(os.environ["RECORD_FILE"], "a") as out:
                out.write(json.dumps({"who": "watcher",
                    "source": event.get("source"),
                    "keys": [r["dynamodb"]["Keys"]["SK"]["S"] for r in event.get("Records", [])]})
                    + "\\n")
    """,
}


def _write_app(root: Path, template: str | None = None) -> Path:
    (root / "fn").mkdir()
    for name, code in HANDLERS.items():
        (root / "fn" / name).write_text(textwrap.dedent(code))
    record_file = root / "records.jsonl"
    text = template if template is not None else TEMPLATE.replace("@RECORD_FILE@", str(record_file))
    (root / "template.yaml").write_text(text)
    return record_file


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def app(tmp_path: Path, aws: None) -> tuple[LocalRuntime, Path]:
    record_file = _write_app(tmp_path)
    runtime = LocalRuntime.start(tmp_path)
    yield runtime, record_file
    runtime.close()


def test_http_route_builds_v2_event_with_path_parameters(app: tuple[LocalRuntime, Path]) -> None:
    runtime, _ = app

    answer = runtime.http("GET", "/items/42")

    assert answer.status == 200
    body = answer.json()
    assert body["item"] == "42"
    assert body["route"] == "GET /items/{item_id}"
    assert body["only_web"] == "yes"
    assert body["queue"] == runtime.physical("Work")
    assert body["function"] == "intercept-t-Web"


def test_http_unknown_route_is_404_without_invocation(app: tuple[LocalRuntime, Path]) -> None:
    runtime, _ = app

    answer = runtime.http("POST", "/items/42")

    assert answer.status == 404
    assert runtime.invocations.get("Web", 0) == 0


def test_sqs_partial_failures_are_redelivered_then_dead_lettered(
    app: tuple[LocalRuntime, Path],
) -> None:
    runtime, record_file = app
    sqs = boto3.client("sqs")
    for index in range(6):
        body = {"n": index, "fail": index == 3}
        sqs.send_message(QueueUrl=runtime.physical("Work"), MessageBody=json.dumps(body))

    runtime.drain()

    deliveries = [r["body"]["n"] for r in _records(record_file) if r["who"] == "worker"]
    assert sorted(set(deliveries)) == list(range(6))
    assert deliveries.count(3) == 2  # maxReceiveCount
    assert all(deliveries.count(n) == 1 for n in range(6) if n != 3)
    assert runtime.queue_depth("Work") == 0
    dead = sqs.receive_message(QueueUrl=runtime.physical("DLQ"), MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["n"] for m in dead["Messages"]] == [3]


def test_sqs_batches_respect_batch_size(app: tuple[LocalRuntime, Path]) -> None:
    runtime, _ = app
    sqs = boto3.client("sqs")
    for index in range(9):
        sqs.send_message(QueueUrl=runtime.physical("Work"), MessageBody=json.dumps({"n": index}))

    report = runtime.drain()

    assert runtime.invocations["Worker"] == 3  # 4 + 4 + 1
    assert report.records == 9


def test_function_sees_only_its_own_environment(app: tuple[LocalRuntime, Path]) -> None:
    runtime, record_file = app
    boto3.client("sqs").send_message(QueueUrl=runtime.physical("Work"), MessageBody="{}")

    runtime.drain()

    assert _records(record_file)[0]["only_web"] is None


def test_stream_records_are_filtered_and_delivered_in_order(
    app: tuple[LocalRuntime, Path],
) -> None:
    runtime, record_file = app
    table = boto3.resource("dynamodb").Table(runtime.physical("Table"))
    for sk in ("DAY#2026-01-01", "SCORE#LATEST", "DAY#2026-01-02", "PROFILE"):
        table.put_item(Item={"PK": "ACCOUNT#a", "SK": sk})

    runtime.drain()

    watched = [r["keys"] for r in _records(record_file) if r["who"] == "watcher"]
    assert watched == [["DAY#2026-01-01", "DAY#2026-01-02"]]


def test_schedule_fires_scheduled_event(app: tuple[LocalRuntime, Path]) -> None:
    runtime, record_file = app

    runtime.run_schedule("Watcher")

    assert _records(record_file)[-1] == {"who": "watcher", "source": "aws.events", "keys": []}


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        (("Handler: web.handler", "Handler: missing.handler"), "does not exist"),
        (("Handler: worker.handler", "Handler: worker.nothing"), "no callable"),
        (("QUEUE: !Ref Work", "QUEUE: !Ref Wrok"), "unknown resource 'Wrok'"),
        (("Queue: !GetAtt Work.Arn", "Queue: !GetAtt Work.QueueUrl"), "not in the template"),
        (("Type: Schedule", "Type: Cron"), "not supported"),
    ],
)
def test_wiring_mistake_fails_at_start(
    tmp_path: Path, aws: None, mistake: tuple[str, str], message: str
) -> None:
    record_file = tmp_path / "records.jsonl"
    broken = TEMPLATE.replace("@RECORD_FILE@", str(record_file)).replace(*mistake)
    _write_app(tmp_path, broken)

    with pytest.raises(TemplateError, match=message):
        LocalRuntime.start(tmp_path)
