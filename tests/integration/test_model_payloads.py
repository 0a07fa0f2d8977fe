"""The synthetic world's vendor payloads, read by Ingest's normalisers, give the world's own
daily aggregates: what the demo posts is what the model was trained to see."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np

from intercept.ingest.normalise import Context, normalise
from intercept.model.synthetic import MODULES, World, generate_world

SOURCES = {"/v1/batch": "segment", "/webhooks/stripe": "stripe", "/webhooks/zendesk": "zendesk"}


def _account_of(event: object, links: dict[str, str]) -> str | None:
    account = getattr(event, "account", {})
    for kind in ("group_id", "stripe_customer", "zendesk_organization"):
        if kind in account:
            return links.get(account[kind], account[kind])
    return None


def _fold(world: World) -> Counter[tuple[str, int, int]]:
    """Count what Merge would count per (counter, account, day) from the normalised events."""
    links = dict(zip(world.stripe_customers, world.group_ids, strict=True))
    links.update(zip(world.zendesk_orgs, world.group_ids, strict=True))
    index = {g: i for i, g in enumerate(world.group_ids)}
    folded: Counter[tuple[str, int, int]] = Counter()
    for route, body in world.requests():
        source = SOURCES[route]
        ctx = Context(source=source, received_at=datetime.now(UTC), call="batch")
        outcome = normalise(source, body, ctx)
        assert not outcome.rejected
        for event in outcome.events:
            day = (event.occurred_at.date() - world.params.start).days
            account = _account_of(event, links)
            if account is None or not 0 <= day < world.params.days:
                continue
            key = (index[account], day)
            if event.usage is not None:
                folded[("logins", *key)] += event.usage.login
                folded[("sessions", *key)] += event.usage.session_seconds is not None
                folded[("usage_units", *key)] += event.usage.units or 0
                if event.usage.module:
                    folded[(f"module:{event.usage.module}", *key)] += 1
            if event.support is not None:
                folded[("tickets_opened", *key)] += event.support.opened
                folded[("tickets_solved", *key)] += event.support.solved
                folded[(f"satisfaction_{event.support.satisfaction}", *key)] += 1
            if event.billing is not None:
                folded[("payments", *key)] += event.billing.payment_succeeded
                folded[("payment_failures", *key)] += event.billing.payment_failed
    return folded


def test_normalised_payloads_fold_to_the_world_aggregates() -> None:
    world = generate_world(seed=12, accounts=25, days=75)
    folded = _fold(world)
    cube = world.cube()
    for name in ("logins", "sessions", "usage_units", "tickets_opened", "tickets_solved"):
        expected = cube.counters[name]
        got = np.zeros_like(expected)
        for (kind, a, d), value in folded.items():
            if kind == name:
                got[a, d] += value
        np.testing.assert_allclose(got, expected, err_msg=name)
    for name in ("payments", "payment_failures", "satisfaction_good", "satisfaction_bad"):
        total = sum(v for (kind, _, _), v in folded.items() if kind == name)
        assert total == cube.counters[name].sum(), name
    for j, module in enumerate(MODULES):
        total = sum(v for (kind, _, _), v in folded.items() if kind == f"module:{module}")
        assert total == cube.module_use[:, :, j].sum(), module
