"""The whole loop on the local runtime: a generated company, from webhooks to alerts.

One small world (seeded) goes through the real ingest route, Merge, Score (stream and
schedule) and Dispatch as `template.yaml` wires them; the assertions read the results back
through the read API, the Slack sink, SES and the dead-letter queues.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intercept.local.demo import DEMO_DRIVER_RATE, LoopResult, demo_secrets, run_loop
from intercept.local.runtime import LocalRuntime
from intercept.local.senders import signed_request

ROOT = Path(__file__).resolve().parents[2]
DEAD_LETTER_QUEUES = ("IngestDLQ", "ScoringDLQ", "ScoreStreamDLQ", "SlackDLQ", "EmailDLQ")


@pytest.fixture(scope="module")
def demo_senders() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def loop(demo_senders: dict[str, str]) -> Iterator[tuple[LocalRuntime, Any, LoopResult]]:
    from intercept.local.session import local_aws
    from intercept.model.synthetic import generate_world

    days = 75
    start = datetime.now(UTC).date() - timedelta(days=days - 1)
    world = generate_world(
        seed=11, accounts=14, days=days, start=start, driver_rate=DEMO_DRIVER_RATE
    )
    env, senders = demo_secrets()
    demo_senders.update(senders)
    with local_aws("inprocess"), LocalRuntime.start(ROOT, env=env) as runtime:
        result = run_loop(runtime, world, senders)
        yield runtime, world, result


def test_every_request_is_accepted(loop: tuple[LocalRuntime, Any, LoopResult]) -> None:
    _, _, result = loop

    assert result.requests > 50
    assert result.rejected == []


def test_every_live_account_is_scored(loop: tuple[LocalRuntime, Any, LoopResult]) -> None:
    _, world, result = loop
    live = {a.account_id for a in world.accounts() if a.status != "canceled"}

    scored = {row["account_id"] for row in result.ranked}

    assert scored == live
    assert result.planned >= len(live)


def test_ranked_list_is_ordered_by_expected_arr_loss(
    loop: tuple[LocalRuntime, Any, LoopResult],
) -> None:
    _, _, result = loop

    exposure = [row["churn_30"] * (row.get("arr") or 0) for row in result.ranked]

    assert exposure == sorted(exposure, reverse=True)
    at_risk = [row for row in result.ranked if row["tier"] != "healthy"]
    assert at_risk, "the generated churn drivers should put some accounts at risk"
    for row in at_risk:
        assert any(char.isdigit() for char in row["reasons"][0]["sentence"]), row["reasons"]


def test_profiles_carry_traits_from_every_source(
    loop: tuple[LocalRuntime, Any, LoopResult],
) -> None:
    _, world, result = loop
    expected = {a.account_id: a for a in world.accounts()}

    for row in result.ranked:
        truth = expected[row["account_id"]]
        assert row["name"] == truth.name
        assert row["owner"] == truth.owner
        assert row["arr"] == pytest.approx(truth.arr, rel=0.01)


def test_actions_reach_slack_and_email_without_dead_letters(
    loop: tuple[LocalRuntime, Any, LoopResult],
) -> None:
    runtime, _, result = loop
    from intercept.aws import client

    delivered = [a for a in result.actions if not a.get("holdout")]
    slack = runtime.sinks["slack"].deliveries

    assert delivered, "the generated churn drivers should trigger at least one playbook"
    assert len(slack) == sum(1 for a in delivered if a["channel"] == "slack")
    assert all(d.json()["blocks"] and d.json()["text"] for d in slack)
    emails = sum(1 for a in delivered if a["channel"] == "email")
    assert client("ses").get_send_quota()["SentLast24Hours"] == emails
    assert {name: runtime.queue_depth(name) for name in DEAD_LETTER_QUEUES} == dict.fromkeys(
        DEAD_LETTER_QUEUES, 0
    )


def test_replayed_requests_change_no_profile(
    loop: tuple[LocalRuntime, Any, LoopResult], demo_senders: dict[str, str]
) -> None:
    runtime, world, result = loop
    bearer = {"Authorization": f"Bearer {demo_senders['api']}"}
    ids = [row["account_id"] for row in result.ranked[:5]]
    before = {i: runtime.http("GET", f"/accounts/{i}", headers=bearer).json() for i in ids}
    requests = list(world.requests())

    for path, payload in requests[:60]:
        headers, body = signed_request(path, payload, demo_senders)
        assert runtime.http("POST", path, headers=headers, body=body).status < 300
    runtime.drain()

    after = {i: runtime.http("GET", f"/accounts/{i}", headers=bearer).json() for i in ids}
    assert _without_scores(after) == _without_scores(before)


def _without_scores(views: dict[str, Any]) -> dict[str, Any]:
    return {i: {k: v for k, v in view.items() if "score" not in k} for i, view in views.items()}
