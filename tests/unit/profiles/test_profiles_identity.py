"""Identity resolution planned over an in-memory table (no AWS): guards and merge choices."""

from __future__ import annotations

from collections.abc import Callable

from profiles_support import MemoryStore, RecordingMerger

from intercept.events import CanonicalEvent
from intercept.profiles.identity import Graph
from intercept.profiles.rules import ProfileRules


def _graph(store: MemoryStore) -> tuple[Graph, RecordingMerger]:
    merger = RecordingMerger()
    return Graph(store, store.rules, merger), merger  # type: ignore[arg-type]


def _plan(graph: Graph, events: list[CanonicalEvent]) -> list:  # type: ignore[type-arg]
    graph.load(events)
    return [graph.plan(e) for e in events]


def test_new_identifiers_create_one_person(event: Callable[..., CanonicalEvent]) -> None:
    graph, merger = _graph(MemoryStore())
    (plan,) = _plan(graph, [event(person={"user_id": "u1", "email": "Ana@Acme.io"})])
    assert plan.person and plan.person.startswith("p_")
    assert {i.token for i in plan.new_ids} == {"user_id:u1", "email:ana@acme.io"}
    assert merger.merges == []


def test_blocked_values_neither_identify_nor_link(event: Callable[..., CanonicalEvent]) -> None:
    store = MemoryStore()
    store.add_person("pa", "user_id:u1")
    graph, merger = _graph(store)
    plans = _plan(
        graph,
        [event(person={"user_id": "u2", "email": "test@test.com", "anonymous_id": "null"})],
    )
    assert {i.token for i in plans[0].new_ids} == {"user_id:u2"}
    assert merger.merges == []


def test_event_linking_two_stored_people_merges_into_the_oldest(
    event: Callable[..., CanonicalEvent],
) -> None:
    store = MemoryStore()
    store.add_person("p_new", "anonymous_id:a1", first_seen="2024-05-02T00:00:00.000000Z")
    store.add_person("p_old", "user_id:u1", first_seen="2024-05-01T00:00:00.000000Z")
    graph, merger = _graph(store)
    (plan,) = _plan(graph, [event(person={"user_id": "u1", "anonymous_id": "a1"})])
    assert merger.merges == [("person", "p_old", "p_new")]
    assert plan.person == "p_old"


def test_second_user_id_does_not_merge(event: Callable[..., CanonicalEvent]) -> None:
    store = MemoryStore()
    store.add_person("pa", "user_id:u1", "email:ana@acme.io")
    graph, merger = _graph(store)
    (plan,) = _plan(graph, [event(person={"user_id": "u2", "email": "ana@acme.io"})])
    assert merger.merges == []
    assert plan.person != "pa"
    assert {i.token for i in plan.new_ids} == {"user_id:u2"}


def test_two_stored_user_ids_linked_by_email_stay_apart(
    event: Callable[..., CanonicalEvent],
) -> None:
    store = MemoryStore()
    store.add_person("pa", "user_id:u1")
    store.add_person("pb", "user_id:u2", "email:shared@acme.io")
    graph, merger = _graph(store)
    (plan,) = _plan(graph, [event(person={"user_id": "u1", "email": "shared@acme.io"})])
    assert merger.merges == []
    assert plan.person == "pa"


def test_high_cardinality_identifier_is_not_used_to_merge(
    event: Callable[..., CanonicalEvent],
) -> None:
    store = MemoryStore(ProfileRules(max_people_per_identifier=2))
    store.add_person("kiosk", "anonymous_id:k1", _id_extra={"linked_people": {"x", "y", "z"}})
    store.add_person("pb", "email:bo@acme.io")
    graph, merger = _graph(store)
    (plan,) = _plan(graph, [event(person={"anonymous_id": "k1", "email": "bo@acme.io"})])
    assert merger.merges == []
    assert plan.person == "pb"


def test_links_are_counted_per_identifier(event: Callable[..., CanonicalEvent]) -> None:
    store = MemoryStore()
    store.add_person("pa", "user_id:u1", "anonymous_id:k1")
    graph, _ = _graph(store)
    (plan,) = _plan(graph, [event(person={"user_id": "u2", "anonymous_id": "k1"})])
    (linked,) = plan.linked.values()
    assert linked == {plan.person}


def test_unmerged_pair_is_not_merged_again(event: Callable[..., CanonicalEvent]) -> None:
    store = MemoryStore()
    store.add_person("pa", "email:ana@acme.io", no_merge={"pb"})
    store.add_person("pb", "anonymous_id:a1", no_merge={"pa"})
    graph, merger = _graph(store)
    _plan(graph, [event(person={"email": "ana@acme.io", "anonymous_id": "a1"})])
    assert merger.merges == []


def test_people_planned_in_one_batch_join_in_memory(event: Callable[..., CanonicalEvent]) -> None:
    graph, merger = _graph(MemoryStore())
    plans = _plan(
        graph,
        [
            event(1, person={"anonymous_id": "a1"}),
            event(2, person={"anonymous_id": "a2"}),
            event(3, person={"user_id": "u1", "anonymous_id": "a1"}),
            event(4, person={"user_id": "u1", "anonymous_id": "a2"}),
        ],
    )
    people = {graph.canonical(graph.people, p.person) for p in plans}
    assert len(people) == 1 and merger.merges == []


def test_account_named_by_group_traits_links_its_identifiers(
    event: Callable[..., CanonicalEvent],
) -> None:
    graph, _ = _graph(MemoryStore())
    (plan,) = _plan(
        graph,
        [
            event(
                kind="group",
                person={"user_id": "u1"},
                account={"group_id": "acme"},
                account_traits={"stripe_customer_id": "cus_9", "website": "acme.io"},
            )
        ],
    )
    assert plan.account == "acme"
    assert {i.token for i in plan.new_aids} == {
        "group_id:acme",
        "stripe_customer:cus_9",
        "domain:acme.io",
    }
    assert plan.memberships == {("acme", plan.person)}


def test_company_email_attaches_person_to_account_with_that_domain(
    event: Callable[..., CanonicalEvent],
) -> None:
    store = MemoryStore()
    store.add(
        {
            "PK": "AID#domain#acme.io",
            "SK": "AID",
            "kind": "domain",
            "value": "acme.io",
            "account_id": "acme",
        }
    )
    store.add(
        {
            "PK": "ACCOUNT#acme",
            "SK": "PROFILE",
            "account_id": "acme",
            "version": 1,
            "identifiers": {"domain:acme.io"},
        }
    )
    graph, _ = _graph(store)
    plans = _plan(
        graph,
        [event(1, person={"email": "ana@acme.io"}), event(2, person={"email": "bo@gmail.com"})],
    )
    assert plans[0].memberships == {("acme", plans[0].person)}
    assert plans[1].memberships == set()


def test_new_account_domain_attaches_people_already_known(
    event: Callable[..., CanonicalEvent],
) -> None:
    store = MemoryStore()
    store.add_person("pa", "email:ana@acme.io")
    graph, _ = _graph(store)
    (plan,) = _plan(graph, [event(kind="group", account={"group_id": "acme", "domain": "acme.io"})])
    assert plan.memberships == {("acme", "pa")}
