"""The synthetic world: determinism, vendor payload shapes, truth, persistence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from intercept.model.synthetic import DRIVERS, World, generate_world, load_world_records


def test_same_seed_gives_the_same_world_and_payloads() -> None:
    a, b = generate_world(9, 12, 40), generate_world(9, 12, 40)
    assert a.group_ids == b.group_ids
    np.testing.assert_array_equal(a.hazard, b.hazard)
    assert list(a.requests()) == list(b.requests())
    assert generate_world(10, 12, 40).group_ids != a.group_ids


def test_requests_come_in_time_order_on_the_ingest_routes(small_world: World) -> None:
    routes = Counter()
    last = ""
    for route, body in small_world.requests():
        routes[route] += 1
        if route == "/v1/batch":
            stamp = body["sentAt"]
        elif route == "/webhooks/stripe":
            stamp = _iso_from_epoch(body["created"])
        else:
            stamp = body["time"][:23] + "Z"
        if stamp >= "2026-01-01":
            assert stamp[:19] >= last[:19]
            last = stamp
    assert set(routes) == {"/v1/batch", "/webhooks/stripe", "/webhooks/zendesk"}


def _iso_from_epoch(epoch: int) -> str:
    from datetime import UTC, datetime

    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def test_segment_calls_follow_the_tracking_plan(small_world: World) -> None:
    calls = [
        c for route, body in small_world.requests() if route == "/v1/batch" for c in body["batch"]
    ]
    names = Counter(c.get("event") for c in calls if c["type"] == "track")
    assert {"Signed In", "Session Ended", "Feature Used"} <= set(names)
    for call in calls:
        assert call["messageId"] and call["timestamp"].endswith("Z")
        if call["type"] == "track":
            assert call["context"]["groupId"].startswith("grp_")
        if call.get("event") == "Session Ended":
            assert call["properties"]["session_seconds"] >= 0
            assert call["properties"]["module"]
    groups = [c for c in calls if c["type"] == "group"]
    assert len({g["groupId"] for g in groups}) == small_world.n_accounts
    traits = groups[0]["traits"]
    for key in ("plan", "arr", "seats", "owner", "renewal_date", "stripe_customer_id"):
        assert key in traits
    assert traits["owner"].endswith("@example.com")


def test_vendor_ids_link_to_the_account(small_world: World) -> None:
    customers = set(small_world.stripe_customers)
    orgs = set(small_world.zendesk_orgs)
    for route, body in small_world.requests():
        if route == "/webhooks/stripe":
            assert body["data"]["object"]["customer"] in customers
            assert body["type"] in {
                "customer.subscription.created",
                "customer.subscription.updated",
                "customer.subscription.deleted",
                "invoice.paid",
                "invoice.payment_failed",
            }
        elif route == "/webhooks/zendesk":
            assert body["detail"]["organization_id"] in orgs
            assert body["type"].startswith("zen:event-type:ticket.")


def test_a_demo_sized_world_stays_within_the_event_budget() -> None:
    world = generate_world(1, 60, 90)
    events = sum(len(b["batch"]) for r, b in world.requests() if r == "/v1/batch")
    assert 5_000 < events <= 30_000


def test_truth_records_drivers_hazard_and_churn() -> None:
    world = generate_world(4, 300, 200)
    assert world.hazard.shape == (300, 200)
    assert {d["driver"] for d in world.drivers} == set(DRIVERS)
    churned = {world.group_ids[a] for a in np.nonzero(world.churn_day >= 0)[0]}
    canceled = {a.account_id for a in world.accounts() if a.status == "canceled"}
    assert churned == canceled
    with_driver = np.isin(np.arange(300), [d["account"] for d in world.drivers])
    rate = lambda mask: float((world.churn_day[mask] >= 0).mean())  # noqa: E731
    assert rate(with_driver) > 1.5 * rate(~with_driver)


def test_saved_world_reads_back_as_store_records(small_world: World, tmp_path: Path) -> None:
    summary = small_world.save(tmp_path, payloads=True)
    accounts, activity = load_world_records(tmp_path)
    assert len(accounts) == summary["accounts"]
    expected = small_world.daily_activity()
    assert sum(map(len, activity.values())) == sum(map(len, expected.values()))
    assert (tmp_path / "truth" / "hazard.npy").is_file()
    assert (tmp_path / "requests.jsonl.gz").is_file() and summary["requests"] > 0


def test_driver_rate_multiplies_injected_drivers() -> None:
    usual = generate_world(8, 200, 90)
    busy = generate_world(8, 200, 90, driver_rate=4.0)
    assert len(busy.drivers) > 2 * len(usual.drivers)
