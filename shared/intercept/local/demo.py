"""`intercept demo`: a generated company through the whole loop, on the local runtime.

Every request goes through the template's ingest route, signed as its vendor signs it; Merge,
Score and Dispatch run from the queues and the stream exactly as wired in `template.yaml`;
the table and the alert at the end are read back through the read API and the Slack sink.
"""

from __future__ import annotations

import secrets as random_secrets
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from intercept.local.runtime import LocalRuntime
from intercept.local.senders import signed_request

# The demo company has more accounts in trouble than a typical book of business, so that a
# short history shows every playbook at work.
DEMO_DRIVER_RATE = 3.0
DRAIN_EVERY = 100  # requests between deliveries: queues stay shallow, merges coalesce


@dataclass
class LoopResult:
    """What one run of the loop produced, for printing and for tests."""

    requests: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    ranked: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    planned: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def demo_secrets() -> tuple[dict[str, str], dict[str, str]]:
    """Fresh random secrets: (runtime environment, sender secrets by vendor)."""
    token = {name: random_secrets.token_hex(16) for name in ("segment", "stripe", "zendesk", "api")}
    env = {
        "INTERCEPT_WRITE_KEYS": f"{token['segment']}=web",
        "INTERCEPT_WEBHOOK_SECRET_STRIPE": f"whsec_{token['stripe']}",
        "INTERCEPT_WEBHOOK_SECRET_ZENDESK": token["zendesk"],
        "INTERCEPT_API_KEY": token["api"],
    }
    senders = {
        "segment": token["segment"],
        "stripe": f"whsec_{token['stripe']}",
        "zendesk": token["zendesk"],
        "api": token["api"],
    }
    return env, senders


def run_loop(runtime: LocalRuntime, world: Any, senders: dict[str, str]) -> LoopResult:
    """Send the world's requests through ingest, run every stage, and read the results."""
    result = LoopResult()
    started = time.perf_counter()
    for path, payload in world.requests():
        headers, body = signed_request(path, payload, senders)
        answer = runtime.http("POST", path, headers=headers, body=body)
        result.requests += 1
        if answer.status >= 300:
            result.rejected.append((path, answer.status, answer.body.decode()[:200]))
        if result.requests % DRAIN_EVERY == 0:
            runtime.drain()
    runtime.drain()
    result.timings["ingest_and_merge"] = time.perf_counter() - started

    started = time.perf_counter()
    planned = runtime.run_schedule("PlannerFunction")
    result.planned = int(planned.get("accounts", 0)) if isinstance(planned, dict) else 0
    runtime.drain()
    result.timings["scheduled_run"] = time.perf_counter() - started

    bearer = {"Authorization": f"Bearer {senders['api']}"}
    result.ranked = runtime.http("GET", "/accounts", headers=bearer, query="limit=500").json()[
        "accounts"
    ]
    result.actions = runtime.http("GET", "/actions", headers=bearer, query="limit=500").json()[
        "actions"
    ]
    return result


def run_demo(root: Path, accounts: int, days: int, seed: int) -> int:
    from intercept.dispatch.preview import render_preview
    from intercept.local.session import handler_output_to, local_aws
    from intercept.model.synthetic import generate_world

    began = time.perf_counter()
    start = datetime.now(UTC).date() - timedelta(days=days - 1)
    world = generate_world(
        seed=seed, accounts=accounts, days=days, start=start, driver_rate=DEMO_DRIVER_RATE
    )
    summary = world.summary()
    print(_heading(f"Intercept demo: {accounts} accounts, {days} days of behaviour, seed {seed}"))
    print(
        f"Generated {summary['accounts']} accounts and {summary['people']} people "
        f"({summary['tickets']} tickets, {summary['churned']} churned during the history)."
    )
    env, senders = demo_secrets()
    log_path = root / ".intercept" / "demo.log"
    log_path.parent.mkdir(exist_ok=True)
    with (
        log_path.open("w") as log,
        warnings.catch_warnings(),
        handler_output_to(log),
        local_aws("inprocess"),
        LocalRuntime.start(root, env=env) as runtime,
    ):
        warnings.simplefilter("ignore")
        result = run_loop(runtime, world, senders)
        slack = runtime.sinks.get("slack")
        alert = slack.deliveries[0].json() if slack and slack.deliveries else None
        emails = _sent_emails()
    print(
        f"Sent {result.requests} signed requests through ingest "
        f"({len(result.rejected)} rejected); merged, scored and acted on them in "
        f"{result.timings['ingest_and_merge']:.1f} s; the scheduled run re-scored "
        f"{result.planned} accounts in {result.timings['scheduled_run']:.1f} s."
    )
    for path, status, body in result.rejected[:3]:
        print(f"  rejected {path}: {status} {body}")
    print()
    print(_heading("Accounts most likely to churn in the next 30 days"))
    print(format_ranked(result.ranked[:12], as_of=date.today()))
    print()
    print(_heading("Actions dispatched"))
    print(format_actions(result.actions, emails))
    if alert is not None:
        print()
        print(_heading("One alert, as the CSM sees it in Slack"))
        print(render_preview(alert))
    print(f"\nDone in {time.perf_counter() - began:.1f} s. The functions' logs: {log_path}")
    return 0 if not result.rejected and result.ranked else 1


def _sent_emails() -> int:
    from intercept.aws import client

    quota = client("ses").get_send_quota()
    return int(quota.get("SentLast24Hours", 0))


def _heading(text: str) -> str:
    return f"{text}\n{'=' * len(text)}"


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


def format_ranked(rows: list[dict[str, Any]], as_of: date) -> str:
    """The CSM's ranked list as a plain-text table."""
    header = f"{'#':>2}  {'account':22} {'ARR':>10} {'churn 30d':>9} {'health':>6}  "
    header += f"{'top reasons':58} {'recommended action':34} owner"
    lines = [header, "-" * len(header)]
    for rank, row in enumerate(rows, start=1):
        reasons = "; ".join(r["sentence"] for r in row.get("reasons", [])[:2]) or "-"
        action = row.get("recommended_action") or "-"
        lines.append(
            f"{rank:>2}  {_clip(row.get('name') or row['account_id'], 22):22} "
            f"{_money(row.get('arr')):>10} {row['churn_30']:>9.0%} {row['health']:>6}  "
            f"{_clip(reasons, 58):58} {_clip(action, 34):34} {row.get('owner') or '-'}"
        )
    return "\n".join(lines)


def format_actions(actions: list[dict[str, Any]], emails_sent: int) -> str:
    if not actions:
        return "No actions were needed."
    by_channel = Counter(a["channel"] for a in actions if not a.get("holdout"))
    by_playbook = Counter(a["playbook"] for a in actions)
    held_out = sum(1 for a in actions if a.get("holdout"))
    lines = [
        f"{len(actions)} actions decided; delivered by channel: "
        + ", ".join(f"{channel} {count}" for channel, count in sorted(by_channel.items()))
        + f"; {held_out} held out for uplift measurement; SES accepted {emails_sent} e-mails.",
        "By playbook: " + ", ".join(f"{name} {n}" for name, n in by_playbook.most_common()),
    ]
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"
