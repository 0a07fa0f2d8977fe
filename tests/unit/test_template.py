"""The SAM template: lint-clean, transformable offline, and holding the wiring rules we promise.

cfn-lint misses unknown SAM event properties and bad runtimes, so the template is also
transformed with aws-sam-translator (local code folders swapped for placeholder S3 URIs and a
stub managed-policy loader), which rejects those.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from intercept.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def _transform(template: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    class PolicyLoader:
        def load(self) -> dict[str, str]:
            return {}

    document = copy.deepcopy(template)
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://intercept-artifacts/{properties[key].strip('/')}.zip"
    return transform(document, {}, PolicyLoader())


def test_template_passes_cfn_lint() -> None:
    from cfnlint.api import lint_all

    matches = lint_all(TEMPLATE_PATH.read_text())

    # Errors and warnings fail; informational suggestions (rule ids I...) do not.
    assert [str(m) for m in matches if not m.rule.id.startswith("I")] == []


def test_template_transforms_offline(template: dict[str, Any]) -> None:
    transformed = _transform(template)

    functions = _resources(transformed, "AWS::Lambda::Function")
    assert len(functions) == len(_resources(template, "AWS::Serverless::Function"))
    assert all(f["Properties"]["Runtime"] == "python3.12" for f in functions.values())


def test_transform_rejects_unknown_event_property(template: dict[str, Any]) -> None:
    from samtranslator.model.exceptions import InvalidDocumentException

    broken = copy.deepcopy(template)
    merge_events = broken["Resources"]["MergeFunction"]["Properties"]["Events"]
    merge_events["Ingested"]["Properties"]["BatchSizee"] = 10

    with pytest.raises(InvalidDocumentException):
        _transform(broken)


def test_every_sqs_consumer_reports_partial_failures_and_has_a_dlq(
    template: dict[str, Any],
) -> None:
    queues = _resources(template, "AWS::SQS::Queue")
    globals_timeout = template["Globals"]["Function"]["Timeout"]
    for lid, function in _resources(template, "AWS::Serverless::Function").items():
        timeout = function["Properties"].get("Timeout", globals_timeout)
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            queue = queues[queue_id]["Properties"]
            assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 5, queue_id
            assert queue["VisibilityTimeout"] >= 6 * timeout, (lid, queue_id)


def test_every_store_is_encrypted(template: dict[str, Any]) -> None:
    for lid, table in _resources(template, "AWS::DynamoDB::Table").items():
        assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True, lid
    for lid, queue in _resources(template, "AWS::SQS::Queue").items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, lid
    for lid, topic in _resources(template, "AWS::SNS::Topic").items():
        assert topic["Properties"]["KmsMasterKeyId"], lid
    for lid, bucket in _resources(template, "AWS::S3::Bucket").items():
        assert bucket["Properties"]["BucketEncryption"], lid
        assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values()), lid


def test_policies_grant_no_wildcard_actions_on_wildcard_resources(
    template: dict[str, Any],
) -> None:
    transformed = _transform(template)

    for lid, role in _resources(transformed, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                actions = actions if isinstance(actions, list) else [actions]
                wildcard_action = any(a == "*" or a.endswith(":*") for a in actions)
                assert not (wildcard_action and statement.get("Resource") == "*"), (lid, actions)


def test_only_the_score_function_gets_the_model_layer(template: dict[str, Any]) -> None:
    globals_layers = template["Globals"]["Function"]["Layers"]
    assert {"Ref": "ModelLayer"} not in globals_layers
    for lid, function in _resources(template, "AWS::Serverless::Function").items():
        layers = function["Properties"].get("Layers", [])
        assert ({"Ref": "ModelLayer"} in layers) == (lid == "ScoreFunction"), lid


def test_actions_topic_routes_each_channel_to_its_queue(template: dict[str, Any]) -> None:
    subscriptions = _resources(template, "AWS::SNS::Subscription").values()
    routes = {
        json.dumps(s["Properties"]["FilterPolicy"]): s["Properties"]["Endpoint"]["Fn::GetAtt"][0]
        for s in subscriptions
    }

    assert routes == {
        '{"channel": ["slack"]}': "SlackQueue",
        '{"channel": ["email"]}': "EmailQueue",
        '{"channel": ["webhook"]}': "WebhookQueue",
    }
