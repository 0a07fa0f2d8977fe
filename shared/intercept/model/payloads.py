"""Vendor payloads of a synthetic world, shaped as Segment, Stripe and Zendesk send them.

Segment calls follow the tracking plan: a group call carries the account traits and the link
keys (`stripe_customer_id`, `zendesk_organization_id`); product use arrives as "Signed In",
"Feature Used" and "Session Ended" tracks with `properties.module`, `session_seconds` and
`units`, each with `context.groupId`. Stripe events carry the account's customer id; Zendesk
ticket webhooks carry its organization id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from intercept.model.synthetic import MODULES, ONBOARDING_STEPS, PLANS, stable_uuid

if TYPE_CHECKING:
    from intercept.model.synthetic import BillingItem, Ticket, World

SEGMENT_ROUTE = "/v1/batch"
STRIPE_ROUTE = "/webhooks/stripe"
ZENDESK_ROUTE = "/webhooks/zendesk"
_LIBRARY = {"name": "intercept-synthetic", "version": "1.0"}
_ZENDESK_ACCOUNT = 22100000
_ZENDESK_USER_BASE = 36_000_000_000


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Emitter:
    def __init__(self, world: World) -> None:
        self.world = world
        self.serial = 0
        self.identified: set[int] = set()
        self.day_bounds = np.searchsorted(world.pd_day, np.arange(world.params.days + 1))
        self.onboarding: dict[int, list[tuple[int, int, int, int]]] = {}
        for item in world.onboarding:
            self.onboarding.setdefault(item[0], []).append(item)

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.world.params.seed:04x}{self.serial:010d}"

    # ------------------------------------------------------------ Segment

    def group_call(
        self, account: int, day: int, seats: int, seconds: int = 300
    ) -> tuple[datetime, dict[str, Any]]:
        w = self.world
        moment = w.stamp(day, seconds)
        mrr = round(float(w.mrr0[account]) * seats / float(w.seats0[account]), 2)
        created = w.stamp(int(w.created[account]), 9 * 3600)
        renewal = w._next_renewal(account, day)
        champion = int(np.flatnonzero(w.person_account == account)[0])
        traits = {
            "name": w.names[account],
            "plan": PLANS[int(w.plan[account])],
            "mrr": mrr,
            "arr": round(mrr * 12, 2),
            "seats": seats,
            "usage_cap": float(seats * w.cap_per_seat[account]),
            "owner": w.owner[account],
            "account_executive": w.executive[account],
            "renewal_date": renewal.isoformat(),
            "lifecycle_stage": "customer",
            "domain": w.domains[account],
            "created_at": _iso(created),
            "stripe_customer_id": w.stripe_customers[account],
            "zendesk_organization_id": w.zendesk_orgs[account],
        }
        return moment, {
            "type": "group",
            "messageId": self.next_id("msg_"),
            "userId": w.person_ids[champion],
            "groupId": w.group_ids[account],
            "traits": traits,
            "timestamp": _iso(moment),
            "context": {"library": _LIBRARY},
        }

    def identify(self, person: int, moment: datetime) -> dict[str, Any]:
        w = self.world
        account = int(w.person_account[person])
        email = w.person_emails[person]
        return {
            "type": "identify",
            "messageId": self.next_id("msg_"),
            "userId": w.person_ids[person],
            "traits": {"email": email, "name": email.split("@")[0].replace(".", " ").title()},
            "timestamp": _iso(moment),
            "context": {"groupId": w.group_ids[account], "library": _LIBRARY},
        }

    def track(
        self, person: int, name: str, moment: datetime, properties: dict[str, Any]
    ) -> dict[str, Any]:
        w = self.world
        return {
            "type": "track",
            "event": name,
            "messageId": self.next_id("msg_"),
            "userId": w.person_ids[person],
            "properties": properties,
            "timestamp": _iso(moment),
            "context": {"groupId": w.group_ids[int(w.person_account[person])], "library": _LIBRARY},
        }

    def segment_day(self, day: int) -> list[tuple[datetime, dict[str, Any]]]:
        w = self.world
        calls: list[tuple[datetime, dict[str, Any]]] = []
        lo, hi = int(self.day_bounds[day]), int(self.day_bounds[day + 1])
        for i in range(lo, hi):
            person, start = int(w.pd_person[i]), int(w.pd_start[i])
            began = w.stamp(day, start)
            if person not in self.identified:
                self.identified.add(person)
                calls.append((began, self.identify(person, began)))
            if w.pd_login[i]:
                calls.append((began, self.track(person, "Signed In", began, {})))
            if w.pd_module2[i] >= 0:
                moment = w.stamp(day, start + 120)
                used = {"module": MODULES[w.pd_module2[i]], "feature": "open"}
                calls.append((moment, self.track(person, "Feature Used", moment, used)))
            seconds = float(w.pd_seconds[i])
            ended = w.stamp(day, min(start + int(seconds), 86_399))
            props: dict[str, Any] = {
                "module": MODULES[w.pd_module[i]],
                "session_seconds": seconds,
                "units": float(w.pd_units[i]),
            }
            calls.append((ended, self.track(person, "Session Ended", ended, props)))
        for _day, _account, person, step in self.onboarding.get(day, []):
            moment = w.stamp(day, 8 * 3600 + 60 * step)
            step_props = {"step": ONBOARDING_STEPS[step]}
            calls.append(
                (moment, self.track(person, "Onboarding Step Completed", moment, step_props))
            )
        return calls

    # ------------------------------------------------------------ Stripe

    def stripe_event(self, item: BillingItem) -> tuple[datetime, dict[str, Any]]:
        w = self.world
        a = item.account
        moment = w.stamp(item.day, item.seconds + item.attempt * 60)
        epoch = int(moment.timestamp())
        plan = PLANS[int(w.plan[a])]
        per_seat = int(round(float(w.mrr0[a]) / float(w.seats0[a]) * 100))
        price = {
            "id": f"price_{plan}_{w.params.seed}",
            "object": "price",
            "currency": "usd",
            "unit_amount": per_seat,
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
            "product": f"prod_{plan}",
            "nickname": plan,
            "type": "recurring",
        }
        subscription_id = f"sub_{w.stripe_customers[a][4:]}"
        if item.kind in ("paid", "failed"):
            kind = "invoice.paid" if item.kind == "paid" else "invoice.payment_failed"
            obj = self._invoice(item, price, subscription_id, epoch)
            data: dict[str, Any] = {"object": obj}
        else:
            kind = f"customer.subscription.{item.kind}"
            obj = self._subscription(item, price, subscription_id, epoch)
            data = {"object": obj}
            if item.kind == "updated":
                data["previous_attributes"] = {"quantity": item.previous_seats}
        return moment, {
            "id": self.next_id("evt_"),
            "object": "event",
            "api_version": "2024-06-20",
            "created": epoch,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }

    def _subscription(
        self, item: BillingItem, price: dict[str, Any], sub_id: str, epoch: int
    ) -> dict[str, Any]:
        w = self.world
        a = item.account
        created = int(w.stamp(int(w.created[a]), 6 * 3600).timestamp())
        canceled = item.kind == "deleted"
        return {
            "id": sub_id,
            "object": "subscription",
            "customer": w.stripe_customers[a],
            "status": "canceled" if canceled else "active",
            "created": created,
            "start_date": created,
            "current_period_start": epoch,
            "current_period_end": epoch + 30 * 86400,
            "cancel_at_period_end": False,
            "canceled_at": epoch if canceled else None,
            "ended_at": epoch if canceled else None,
            "collection_method": "charge_automatically",
            "currency": "usd",
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": f"si_{sub_id[4:]}",
                        "object": "subscription_item",
                        "price": price,
                        "quantity": item.seats,
                        "subscription": sub_id,
                    }
                ],
                "has_more": False,
            },
            "plan": {
                "id": price["id"],
                "object": "plan",
                "amount": price["unit_amount"],
                "currency": "usd",
                "interval": "month",
                "nickname": price["nickname"],
                "product": price["product"],
            },
            "quantity": item.seats,
            "metadata": {"account_id": w.group_ids[a]},
            "livemode": False,
        }

    def _invoice(
        self, item: BillingItem, price: dict[str, Any], sub_id: str, epoch: int
    ) -> dict[str, Any]:
        w = self.world
        cents = int(round(item.amount * 100))
        paid = item.kind == "paid"
        retry = epoch + 3 * 86400 if not paid and item.attempt < 4 else None
        return {
            "id": f"in_{sub_id[4:]}{item.day:05d}"
            if paid
            else f"in_{sub_id[4:]}{item.day - {1: 0, 2: 3, 3: 5, 4: 7}[item.attempt]:05d}",
            "object": "invoice",
            "customer": w.stripe_customers[item.account],
            "subscription": sub_id,
            "status": "paid" if paid else "open",
            "paid": paid,
            "attempted": True,
            "attempt_count": item.attempt,
            "amount_due": cents,
            "amount_paid": cents if paid else 0,
            "amount_remaining": 0 if paid else cents,
            "currency": "usd",
            "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically",
            "created": epoch,
            "period_start": epoch - 30 * 86400,
            "period_end": epoch,
            "next_payment_attempt": retry,
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": f"il_{sub_id[4:]}{item.day:05d}",
                        "object": "line_item",
                        "amount": cents,
                        "currency": "usd",
                        "quantity": item.seats,
                        "price": price,
                        "subscription": sub_id,
                        "type": "subscription",
                    }
                ],
                "has_more": False,
            },
            "metadata": {},
            "livemode": False,
        }

    # ------------------------------------------------------------ Zendesk

    def zendesk_events(self, ticket: Ticket) -> list[tuple[int, datetime, dict[str, Any]]]:
        w = self.world
        opened = w.stamp(ticket.opened, ticket.opened_seconds)
        requester = str(_ZENDESK_USER_BASE + ticket.requester)
        priority = ticket.priority.upper()
        detail: dict[str, Any] = {
            "actor_id": requester,
            "assignee_id": None,
            "brand_id": "360000000001",
            "created_at": _iso(opened).replace(".000Z", "Z"),
            "custom_status": "360000000101",
            "description": f"Question about {MODULES[ticket.ticket_id % len(MODULES)]}",
            "external_id": None,
            "form_id": "360000000201",
            "group_id": "360000000301",
            "id": str(ticket.ticket_id),
            "is_public": True,
            "organization_id": w.zendesk_orgs[ticket.account],
            "priority": priority,
            "requester_id": requester,
            "status": "NEW",
            "subject": f"Ticket {ticket.ticket_id}",
            "submitter_id": requester,
            "tags": [],
            "type": "PROBLEM" if ticket.priority in ("high", "urgent") else "QUESTION",
            "updated_at": _iso(opened).replace(".000Z", "Z"),
            "via": {"channel": "web"},
        }
        out = [(ticket.opened, opened, self._zendesk("ticket.created", ticket, opened, detail, {}))]
        if ticket.escalated is not None:
            moment = w.stamp(ticket.escalated, 10 * 3600)
            changed = {**detail, "priority": "URGENT", "status": "OPEN", "tags": ["escalated"]}
            changed["updated_at"] = _iso(moment).replace(".000Z", "Z")
            event = {"current": "URGENT", "previous": priority}
            out.append(
                (
                    ticket.escalated,
                    moment,
                    self._zendesk("ticket.priority_changed", ticket, moment, changed, event),
                )
            )
        if ticket.solved is not None:
            moment = w.stamp(ticket.solved, 15 * 3600)
            solved = {
                **detail,
                "status": "SOLVED",
                "updated_at": _iso(moment).replace(".000Z", "Z"),
            }
            if ticket.escalated is not None:
                solved["tags"] = ["escalated"]
            if ticket.satisfaction:
                # Limitation: satisfaction rides on the solved webhook as the ticket's
                # satisfaction_rating field; escalation is an "escalated" tag, urgent priority.
                solved["satisfaction_rating"] = {"score": ticket.satisfaction}
            event = {"current": "SOLVED", "previous": "OPEN"}
            out.append(
                (
                    ticket.solved,
                    moment,
                    self._zendesk("ticket.status_changed", ticket, moment, solved, event),
                )
            )
        return out

    def _zendesk(
        self,
        kind: str,
        ticket: Ticket,
        moment: datetime,
        detail: dict[str, Any],
        event: dict[str, Any],
    ) -> dict[str, Any]:
        seed = self.world.params.seed
        return {
            "account_id": _ZENDESK_ACCOUNT,
            "detail": detail,
            "event": event,
            "id": stable_uuid(seed, "zendesk", ticket.ticket_id, kind),
            "subject": f"zen:ticket:{ticket.ticket_id}",
            "time": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "type": f"zen:event-type:{kind}",
            "zendesk_event_version": "2022-11-06",
        }


def iter_requests(world: World, batch_size: int = 100) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every request of the world in time order (see `World.requests`)."""
    emitter = _Emitter(world)
    days = world.params.days
    billing_by_day: dict[int, list[BillingItem]] = {}
    for item in world.billing:
        billing_by_day.setdefault(max(item.day, -1), []).append(item)
    tickets_by_day: dict[int, list[tuple[datetime, dict[str, Any]]]] = {}
    for ticket in world.tickets:
        for day, moment, payload in emitter.zendesk_events(ticket):
            tickets_by_day.setdefault(day, []).append((moment, payload))
    groups_by_day: dict[int, list[tuple[int, int]]] = {}
    for a in range(world.n_accounts):
        groups_by_day.setdefault(max(int(world.created[a]), 0), []).append(
            (a, int(world.seats0[a]))
        )
    for day, a, seats in world.seat_changes:
        groups_by_day.setdefault(day, []).append((a, seats))

    # Subscriptions created before the window (existing customers) come first, as a backfill.
    for item in sorted(billing_by_day.pop(-1, []), key=lambda b: (b.day, b.account)):
        yield STRIPE_ROUTE, emitter.stripe_event(item)[1]
    for day in range(days):
        webhooks = [
            (*emitter.stripe_event(item), STRIPE_ROUTE) for item in billing_by_day.get(day, [])
        ]
        webhooks += [(m, p, ZENDESK_ROUTE) for m, p in tickets_by_day.get(day, [])]
        calls = [
            emitter.group_call(a, day, seats, 120 + 60 * (i % 50))
            for i, (a, seats) in enumerate(groups_by_day.get(day, []))
        ]
        calls += emitter.segment_day(day)
        calls.sort(key=lambda c: c[0])
        batches = [calls[i : i + batch_size] for i in range(0, len(calls), batch_size)]
        items: list[tuple[datetime, int, str, dict[str, Any]]] = []
        for batch in batches:
            sent = batch[-1][0]
            body = {
                "batch": [c[1] for c in batch],
                "sentAt": _iso(sent),
                "context": {"library": _LIBRARY},
            }
            items.append((sent, 1, SEGMENT_ROUTE, body))
        items += [(m, 0, route, p) for m, p, route in webhooks]
        items.sort(key=lambda x: (x[0], x[1]))
        for _moment, _order, route, body in items:
            yield route, body
