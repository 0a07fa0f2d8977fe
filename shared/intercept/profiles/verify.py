"""Tools to check the profile stage: a canonical snapshot, a seeded stream, local tables.

`snapshot` reads a whole profiles table and describes it without generated ids: a person is
named by its sorted identifiers, an account likewise, so two tables built from the same
events in different orders compare equal exactly when they hold the same people, accounts,
traits, memberships and daily activity. It also lists broken invariants (an identifier
pointing at the wrong person, a merge left half-done).

`sample_stream` produces real-shaped canonical events for a small B2B company — anonymous
visits, identify and group calls, product usage, Stripe billing, Zendesk tickets and HubSpot
changes — where each true person and account is reachable through several identifiers.

Only tests, benchmarks and local tools import this module.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from intercept.events import Billing, CanonicalEvent, Support, Usage
from intercept.profiles.codec import decode, to_plain

# ---------------------------------------------------------------------- tables


@cache
def _template(root: Path) -> dict[str, Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return dict(yaml.load((root / "template.yaml").read_text(), Loader=Loader))  # noqa: S506


def table_definition(root: Path, resource: str, stream: bool = True) -> dict[str, Any]:
    """CreateTable arguments for a table of template.yaml (intrinsic functions ignored).

    ``stream=False`` leaves the stream out: moto copies a table's whole stream history on
    every transaction, which makes long local runs slow down quadratically.
    """
    props = copy.deepcopy(_template(root.resolve())["Resources"][resource]["Properties"])
    definition = {
        name: props[name]
        for name in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        if name in props
    }
    if stream and "StreamSpecification" in props:
        definition["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return definition


def create_tables(
    client: Any, root: Path, profiles: str, idempotency: str, stream: bool = False
) -> None:
    """Create the profiles and idempotency tables as the template defines them."""
    client.create_table(TableName=profiles, **table_definition(root, "ProfilesTable", stream))
    client.create_table(TableName=idempotency, **table_definition(root, "IdempotencyTable"))


@contextmanager
def fast_moto_transactions() -> Iterator[None]:
    """moto with item-level transaction rollback (the local runtime's speed-up).

    moto keeps a transaction atomic by deep-copying every table it touches, so each
    transaction costs time in proportion to the whole table; `intercept.local.moto_speedups`
    backs up only the items a transaction names. It stays installed for the process.
    """
    from intercept.local import moto_speedups

    moto_speedups.install()
    yield


# ---------------------------------------------------------------------- snapshot


def scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items.extend(decode(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass
class _Index:
    profiles: dict[str, dict[str, Any]]

    def live(self, profile_id: str | None) -> str | None:
        for _ in range(16):
            item = self.profiles.get(profile_id or "")
            if item is None:
                return None
            if not item.get("merged_into"):
                return profile_id
            profile_id = str(item["merged_into"])
        return None

    def name(self, profile_id: str | None) -> str:
        live = self.live(profile_id)
        if live is None:
            return f"<missing {profile_id}>"
        return "|".join(sorted(self.profiles[live].get("identifiers", set()))) or f"<bare {live}>"


def snapshot(client: Any, table: str) -> dict[str, Any]:
    """The table's content with generated ids replaced by identifier names (see module doc)."""
    items = scan(client, table)
    people = _Index({i["person_id"]: i for i in items if i["PK"].startswith("PERSON#")})
    accounts = _Index(
        {
            i["account_id"]: i
            for i in items
            if i["PK"].startswith("ACCOUNT#") and i["SK"] == "PROFILE"
        }
    )
    problems: list[str] = []
    result: dict[str, Any] = {"people": {}, "accounts": {}, "members": [], "days": {}}
    for index, entity in ((people, "person"), (accounts, "account")):
        for profile_id, item in index.profiles.items():
            if item.get("merged_into"):
                continue
            if item.get("absorbing"):
                problems.append(f"{entity} {profile_id} has unfinished merges")
            section = result["people" if entity == "person" else "accounts"]
            section[index.name(profile_id)] = _profile_view(item, accounts)
    _check_identifiers(items, people, "ID#", "person_id", problems)
    _check_identifiers(items, accounts, "AID#", "account_id", problems)
    members = set()
    for item in items:
        if item["PK"].startswith("ACCOUNT#") and item["SK"].startswith("PERSON#"):
            members.add((accounts.name(item["account_id"]), people.name(item["person_id"])))
            if people.live(item["person_id"]) != item["person_id"]:
                problems.append(f"membership of {item['person_id']} names a merged person")
        elif item["SK"].startswith("DAY#"):
            account = accounts.name(item["account_id"])
            result["days"][f"{account}|{item['SK'][4:]}"] = _day_view(item, people, problems)
    result["members"] = sorted(members)
    for name, view in result["people"].items():
        for account in view["accounts"]:
            if (account, name) not in members:
                problems.append(f"person {name} lists account {account} without membership")
    result["problems"] = sorted(problems)
    return result


def _profile_view(item: dict[str, Any], accounts: _Index) -> dict[str, Any]:
    view = {
        "traits": to_plain(item.get("traits", {})),
        "trait_meta": to_plain(item.get("trait_meta", {})),
        "first_seen": item.get("first_seen"),
    }
    if item.get("entity") == "person":
        view["last_seen"] = item.get("last_seen")
        view["accounts"] = sorted({accounts.name(a) for a in item.get("accounts", set())})
    return view


def _check_identifiers(
    items: list[dict[str, Any]], index: _Index, prefix: str, field: str, problems: list[str]
) -> None:
    claimed: dict[str, str] = {}
    for item in items:
        if item["PK"].startswith(prefix):
            token = f"{item['kind']}:{item['value']}"
            owner = index.live(item[field])
            claimed[token] = owner or ""
            if owner is None:
                problems.append(f"{token} points to a missing profile")
            elif token not in index.profiles[owner].get("identifiers", set()):
                problems.append(f"{token} points to a profile that does not list it")
    for profile_id, item in index.profiles.items():
        if item.get("merged_into"):
            continue
        for token in item.get("identifiers", set()):
            if claimed.get(token) != profile_id:
                problems.append(f"{token} is listed by {profile_id} but points elsewhere")


def _day_view(item: dict[str, Any], people: _Index, problems: list[str]) -> dict[str, Any]:
    view: dict[str, Any] = {}
    for name, value in item.items():
        if name in ("PK", "SK", "account_id", "day"):
            continue
        if name == "people":
            for person in value:
                if people.live(person) != person:
                    problems.append(f"day {item['SK']} lists merged or missing person {person}")
            view[name] = sorted({people.name(p) for p in value})
        elif isinstance(value, set):
            view[name] = sorted(value)
        else:
            view[name] = to_plain(value)
    return view


def differences(left: dict[str, Any], right: dict[str, Any], limit: int = 20) -> list[str]:
    """Readable paths where two snapshots disagree (empty when they are equal)."""
    found: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for name in sorted(set(a) | set(b)):
                walk(a.get(name, "<absent>"), b.get(name, "<absent>"), f"{path}/{name}")
        elif a != b:
            found.append(f"{path}: {a!r} != {b!r}")

    walk(left, right, "")
    return found


# ---------------------------------------------------------------------- events

EPOCH = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
_SEQUENCE = itertools.count()


def make_event(minutes: float = 0, **fields: Any) -> CanonicalEvent:
    """A canonical event `minutes` after `EPOCH`, with plain defaults for what is not given."""
    occurred = fields.pop("occurred_at", EPOCH + timedelta(minutes=minutes))
    fields.setdefault("event_id", f"evt-{next(_SEQUENCE)}")
    fields.setdefault("source", "web")
    fields.setdefault("kind", "track")
    return CanonicalEvent(occurred_at=occurred, received_at=occurred, **fields)


# ---------------------------------------------------------------------- sample stream

MODULES = ("reports", "dashboards", "exports", "alerts", "integrations", "billing")
STEPS = ("created_workspace", "invited_team", "connected_source", "built_dashboard")


@dataclass
class _Company:
    number: int
    group_id: str
    name: str
    domain: str
    stripe: str
    hubspot: str
    zendesk: str
    plan: str
    mrr: float
    seats: int
    owner: str


@dataclass
class _Person:
    company: _Company
    user_id: str
    anonymous_ids: list[str]
    email: str
    zendesk: str
    hubspot: str
    name: str


class _Stream:
    def __init__(self, seed: int, companies: int, people: int, start: datetime, days: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.days = days
        self.count = 0
        self.companies = [self._company(n) for n in range(companies)]
        self.people = [self._person(c, i) for c in self.companies for i in range(people)]

    def _company(self, n: int) -> _Company:
        name = f"{self.rng.choice(['acme', 'globex', 'initech', 'umbrella', 'hooli'])}{n}"
        plan = self.rng.choice(["starter", "growth", "enterprise"])
        return _Company(
            n,
            f"grp_{self.seed}_{n}",
            name.title(),
            f"{name}.io",
            f"cus_{self.seed}x{n}",
            f"{9000 + n}",
            f"{700 + n}",
            plan,
            {"starter": 49.0, "growth": 299.0, "enterprise": 1999.0}[plan],
            self.rng.randint(3, 40),
            f"csm{n % 2}@vendor.example",
        )

    def _person(self, company: _Company, i: int) -> _Person:
        first = self.rng.choice(["ana", "ben", "chen", "dara", "eli", "fay", "gus", "hana"])
        personal = self.rng.random() < 0.2
        domain = "gmail.com" if personal else company.domain
        return _Person(
            company,
            f"u_{self.seed}_{company.number}_{i}",
            [f"anon-{self.seed}-{company.number}-{i}-{k}" for k in range(2)],
            f"{first}.{company.number}{i}@{domain}",
            f"zd{company.number}{i}",
            f"hs{company.number}{i}",
            first.title(),
        )

    def moment(self) -> datetime:
        return self.start + timedelta(minutes=self.rng.randint(0, self.days * 24 * 60))

    def event(self, source: str, kind: str, **fields: Any) -> CanonicalEvent:
        self.count += 1
        occurred = fields.pop("occurred_at", None) or self.moment()
        return CanonicalEvent(
            event_id=f"{source}-{self.seed}-{self.count}",
            source=source,
            kind=kind,
            occurred_at=occurred,
            received_at=occurred + timedelta(seconds=self.rng.randint(1, 600)),
            **fields,
        )

    def one(self) -> CanonicalEvent:
        makers: list[tuple[float, Callable[[], CanonicalEvent]]] = [
            (3, self.anonymous_page),
            (2, self.identify),
            (5, self.usage),
            (1, self.group),
            (1, self.billing),
            (1, self.ticket),
            (0.5, self.crm_company),
            (0.5, self.crm_contact),
            (0.3, self.junk_identify),
        ]
        total = sum(weight for weight, _ in makers)
        pick = self.rng.uniform(0, total)
        for weight, maker in makers:
            pick -= weight
            if pick <= 0:
                return maker()
        return makers[-1][1]()

    def anonymous_page(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        context = {"groupId": person.company.group_id} if self.rng.random() < 0.5 else {}
        return self.event(
            "segment",
            "page",
            name="Pricing",
            person={"anonymous_id": self.rng.choice(person.anonymous_ids)},
            account={"group_id": context["groupId"]} if context else {},
            context=context,
        )

    def identify(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        return self.event(
            "segment",
            "identify",
            person={
                "user_id": person.user_id,
                "anonymous_id": self.rng.choice(person.anonymous_ids),
                "email": person.email.upper() if self.rng.random() < 0.2 else person.email,
            },
            traits={
                "name": person.name,
                "title": self.rng.choice(["engineer", "manager", "analyst"]),
                "logins_shown": self.rng.randint(0, 9),
            },
        )

    def usage(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        ids = {"user_id": person.user_id}
        if self.rng.random() < 0.3:
            ids["anonymous_id"] = self.rng.choice(person.anonymous_ids)
        what = self.rng.choice(["login", "feature", "session", "step", "units"])
        usage = {
            "login": Usage(login=True),
            "feature": Usage(module=self.rng.choice(MODULES), feature="drilldown"),
            "session": Usage(session_seconds=round(self.rng.uniform(30, 3600), 3)),
            "step": Usage(onboarding_step=self.rng.choice(STEPS)),
            "units": Usage(units=round(self.rng.uniform(1, 500), 2)),
        }[what]
        group = person.company.group_id
        return self.event(
            "segment",
            "track",
            name=what,
            person=ids,
            account={"group_id": group},
            context={"groupId": group},
            usage=usage,
        )

    def group(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        company = person.company
        return self.event(
            "segment",
            "group",
            person={"user_id": person.user_id},
            account={"group_id": company.group_id},
            account_traits={
                "name": company.name,
                "plan": self.rng.choice(["starter", company.plan]),
                "website": f"https://www.{company.domain}/",
                "stripe_customer_id": company.stripe,
                "hubspot_company_id": company.hubspot,
                "zendesk_organization_id": company.zendesk,
                "owner": "segment-owner@vendor.example",
                "industry": "software",
            },
        )

    def billing(self) -> CanonicalEvent:
        company = self.rng.choice(self.companies)
        failed = self.rng.random() < 0.2
        billing = Billing(
            plan=company.plan,
            mrr=company.mrr + self.rng.choice([0, 0, 10]),
            seats=company.seats + self.rng.randint(-2, 2),
            status="past_due" if failed else "active",
            payment_failed=failed,
            payment_succeeded=not failed,
            currency="usd",
        )
        return self.event(
            "stripe", "billing", account={"stripe_customer": company.stripe}, billing=billing
        )

    def ticket(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        solved = self.rng.random() < 0.4
        support = Support(
            ticket_id=str(self.rng.randint(1, 10**6)),
            priority=self.rng.choice(["low", "normal", "high", "urgent"]),
            opened=not solved,
            solved=solved,
            satisfaction=self.rng.choice([None, "good", "bad"]) if solved else None,
            escalated=self.rng.random() < 0.1,
        )
        return self.event(
            "zendesk",
            "support",
            person={"zendesk_user": person.zendesk, "email": person.email},
            account={"zendesk_organization": person.company.zendesk},
            support=support,
        )

    def crm_company(self) -> CanonicalEvent:
        company = self.rng.choice(self.companies)
        return self.event(
            "hubspot",
            "crm",
            account={"hubspot_company": company.hubspot},
            account_traits={
                "owner": company.owner,
                "lifecycle_stage": self.rng.choice(["customer", "evangelist"]),
                "renewal_date": "2025-01-31",
                "annualrevenue": company.mrr * 12,
            },
        )

    def crm_contact(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        return self.event(
            "hubspot",
            "crm",
            person={"hubspot_contact": person.hubspot, "email": person.email},
            traits={"lifecyclestage": "customer", "phone_verified": True},
        )

    def junk_identify(self) -> CanonicalEvent:
        person = self.rng.choice(self.people)
        return self.event(
            "segment",
            "identify",
            person={
                "user_id": person.user_id,
                "email": self.rng.choice(["test@test.com", "support@acme.io", "null"]),
                "anonymous_id": self.rng.choice(["undefined", "0", person.anonymous_ids[0]]),
            },
        )


def sample_stream(
    seed: int,
    events: int = 80,
    companies: int = 3,
    people: int = 4,
    start: datetime = datetime(2024, 5, 1, tzinfo=UTC),
    days: int = 5,
) -> list[CanonicalEvent]:
    """A seeded, real-shaped stream of `events` canonical events over `days` days."""
    stream = _Stream(seed, companies, people, start, days)
    return [stream.one() for _ in range(events)]


# ---------------------------------------------------------------------- concurrency


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto_server() -> tuple[Any, str]:
    """moto's server mode on a free local port; returns the server and its endpoint URL.

    DynamoDB applies every request atomically (a conditional write is checked and written as
    one step). moto's server runs requests on parallel threads without locking its backend,
    so here each request holds a lock while moto applies it; workers still interleave freely
    between requests, which is where lost updates would come from.
    """
    import threading

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class AtomicRequests:
        def __init__(self, app: Any) -> None:
            self.app = app
            self.lock = threading.Lock()

        def __call__(self, environ: Any, start_response: Any) -> Any:
            with self.lock:
                return list(self.app(environ, start_response))

    class QuietHandler(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = AtomicRequests(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=QuietHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    port = free_port()
    server = Server(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def server_client(endpoint: str) -> Any:
    """A DynamoDB client of its own for one worker, talking to the moto server."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=4),
    )


def concurrent_fold(
    events: list[CanonicalEvent],
    root: Path,
    workers: int = 8,
    batch_size: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Fold `events` with `workers` threads at once and compare with one worker alone.

    Batches are dealt out so that every worker sees every person's identifiers at the same
    time. A batch whose fold fails is put back, as SQS would redeliver it. Returns the number
    of differences between the two tables and any broken invariants.
    """
    with fast_moto_transactions():
        return _concurrent_fold(events, root, workers, batch_size, seed)


def _concurrent_fold(
    events: list[CanonicalEvent], root: Path, workers: int, batch_size: int, seed: int
) -> dict[str, Any]:
    from intercept.profiles.fold import Folder
    from intercept.profiles.store import ProfileStore

    run = f"{seed}-{next(_SEQUENCE)}"
    together_table, alone_table = f"concurrent-{run}", f"sequential-{run}"
    server, endpoint = start_moto_server()
    admin = server_client(endpoint)
    try:
        for table in (together_table, alone_table):
            create_tables(admin, root, table, f"{table}-marks")
        rng = random.Random(seed)
        shuffled = list(events)
        rng.shuffle(shuffled)
        batches = [shuffled[n : n + batch_size] for n in range(0, len(shuffled), batch_size)]

        def store() -> ProfileStore:
            client = server_client(endpoint)
            return ProfileStore(together_table, f"{together_table}-marks", client=client)

        started = time.perf_counter()
        redeliveries = _run_workers(batches, workers, store, seed)
        seconds = time.perf_counter() - started

        alone = ProfileStore(alone_table, f"{alone_table}-marks", client=admin)
        ordered = sorted(events, key=lambda e: (e.occurred_at, e.event_id))
        for start in range(0, len(ordered), batch_size):
            Folder(alone).fold(ordered[start : start + batch_size])
        together = snapshot(admin, together_table)
        reference = snapshot(admin, alone_table)
    finally:
        for table in (together_table, alone_table):
            for name in (table, f"{table}-marks"):
                with contextlib.suppress(Exception):
                    admin.delete_table(TableName=name)
        server.stop()
    return {
        "workers": workers,
        "events": len(events),
        "redeliveries": redeliveries,
        "seconds": round(seconds, 2),
        "differences": differences(reference, together, limit=50),
        "problems": together["problems"],
        "people": len(together["people"]),
        "accounts": len(together["accounts"]),
        "snapshot": together,
    }


def _run_workers(
    batches: list[list[CanonicalEvent]], workers: int, store: Callable[[], Any], seed: int
) -> int:
    """Fold batches on `workers` threads; a failed batch goes back on the queue, as SQS would
    redeliver it. Returns the number of redeliveries."""
    import queue
    import threading

    from intercept.profiles.fold import Folder

    work: queue.Queue[list[CanonicalEvent]] = queue.Queue()
    for batch in batches:
        work.put(batch)
    redeliveries = [0]
    limit = 20 * len(batches)
    failures: list[BaseException] = []

    def worker(number: int) -> None:
        folder = Folder(store(), seed=seed * 100 + number, max_attempts=6)
        while redeliveries[0] <= limit:
            try:
                batch = work.get_nowait()
            except queue.Empty:
                return
            try:
                folder.fold(batch)
            except Exception as exc:  # redelivered, like an SQS message that failed
                failures.append(exc)
                redeliveries[0] += 1
                work.put(batch)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if redeliveries[0] > limit:
        raise RuntimeError(f"batches kept failing; last error: {failures[-1]!r}")
    return redeliveries[0]
