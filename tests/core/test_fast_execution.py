"""The fast execution path (graphql_api/core/fast_execution.py) against graphql-core's reference
executor, on a small schema made to reach each of its branches: null propagation, errors with
their paths and locations, aliases, fragments, directives, __typename, scalars, lists, values
the plan does not expect (awaitables, exceptions, generators), and the differential mode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, NewType, cast

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse, validate
from graphql.execution.middleware import MiddlewareManager
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.core import execution_diff
from graphql_api.core.execution_diff import DiffExecutor, ExecutionMismatch
from graphql_api.core.fast_execution import PLANS, READ_ORDINARILY, FastExecutor, fast_read
from graphql_api.core.scalars import Money, Node


@strawberry.enum
class Color(Enum):
    RED = "red"
    GREEN = "green"


Upper = NewType("Upper", str)
CONFIG = StrawberryConfig(scalar_map={Upper: strawberry.scalar(
    name="Upper", serialize=lambda v: str(v).upper(), parse_value=str)})


@strawberry.type
class Tag:
    label: str
    weight: int | None


def _first_tag(thing: Thing) -> Tag | object | None:
    """A getter: answers for even counts, declines for odd ones, raises for a count of 2 (and
    for a count that is not a number)."""
    if thing.count == 2:
        raise ValueError("no first tag for two")
    if not thing.tags:
        return None
    return thing.tags[0] if thing.count % 2 == 0 else READ_ORDINARILY


def _last_tag(thing: Thing) -> Tag | object | None:
    """A getter of a non-null field that answers None for a count of 1 (the null bubbles)."""
    return None if thing.count == 1 else list(thing.tags)[-1]


class Allow(BasePermission):
    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return True


@strawberry.type
class Thing(Node):
    name: str
    nick_name: str | None  # graphql: nickName
    required_nick: str  # non-null, sometimes None: bubbles to the parent
    price: Money
    when: datetime
    day: date
    color: Color
    shout: Upper
    tags: list[Tag]
    maybe_tags: list[Tag | None] | None
    words: list[str]
    strict_words: list[str] | None
    grid: list[list[int]]
    later: str | None  # sometimes an awaitable
    count: int
    secret: strawberry.Private[str]
    calls: strawberry.Private[list[str]]

    @strawberry.field
    def computed(self) -> str:
        self.calls.append(self.name)
        return f"{self.name}!"

    @strawberry.field
    async def slow(self) -> Tag:
        await asyncio.sleep(0)
        self.calls.append("slow")
        return Tag(label=f"slow-{self.name}", weight=None)

    @strawberry.field
    def greet(self, who: str = "you") -> str:
        return f"{self.name} greets {who}"

    @strawberry.field(metadata=fast_read(_first_tag))
    def first_tag(self, info: strawberry.Info) -> Tag | None:
        found = _first_tag(self)
        if found is READ_ORDINARILY:
            self.calls.append("first_tag")
            return self.tags[0]
        return cast(Tag | None, found)

    @strawberry.field(metadata=fast_read(_last_tag))
    def last_tag(self) -> Tag:
        return cast(Tag, _last_tag(self))

    @strawberry.field(metadata=fast_read(_first_tag), permission_classes=[Allow])
    def guarded_tag(self) -> Tag | None:  # a permission: never read by the getter
        return self.tags[0] if self.tags else None

    @strawberry.field(metadata=fast_read(lambda thing: Tag(label="from the getter", weight=0)))
    def lying_tag(self) -> Tag:  # a getter that disagrees with its resolver: a bug to catch
        return Tag(label="from the resolver", weight=0)


@strawberry.type
class Broken:
    ok: str
    boom: str | None
    gone: str | None
    strict_gone: str


class BrokenSource:
    """Broken's data, whose attributes raise or are missing: errors from the read itself."""

    ok = "fine"

    @property
    def boom(self) -> str:
        raise ValueError("boom")


@dataclass
class Impostor:
    """Not a Thing: Thing's type check (it implements Node) must refuse it."""

    id: str = "x"
    name: str = "impostor"


@strawberry.type
class Query:
    things: list[Thing]
    nullable_things: list[Thing | None]
    one: Thing | None
    strict_one: Thing
    broken: Broken | None
    imposter: Thing | None
    node_list: list[Node]


def make_thing(i: int, calls: list[str], **overrides: Any) -> Thing:
    values: dict[str, Any] = dict(
        id=strawberry.ID(f"VGhpbmc6{i}"), name=f"thing {i}", nick_name=None if i % 2 else f"n{i}",
        required_nick=f"r{i}", price=Money(amount=Decimal(f"{i}.50"), currency="EUR"),
        when=datetime(2026, 1, i + 1, 12, 30, tzinfo=UTC), day=date(2026, 2, i + 1),
        color=Color.RED if i % 2 else Color.GREEN, shout="quiet",
        tags=[Tag(label=f"t{i}", weight=i), Tag(label="z", weight=None)],
        maybe_tags=[Tag(label="m", weight=1), None] if i % 2 else None,
        words=["a", "b"], strict_words=["x"], grid=[[1, 2], [3]], later=f"later {i}", count=i,
        secret="s", calls=calls)
    values.update(overrides)
    return Thing(**values)


async def _later(value: str) -> str:
    await asyncio.sleep(0)
    return value


async def _failing() -> str:
    await asyncio.sleep(0)
    raise RuntimeError("failed later")


def root(calls: list[str], awaitables: bool = True) -> Query:
    """The data; with `awaitables`, two attributes hold coroutines (await them, or they warn)."""
    things = [make_thing(i, calls) for i in range(3)]
    return Query(
        things=things,
        nullable_things=[things[0], None, make_thing(5, calls, required_nick=None),
                         make_thing(6, calls, count=2**40)],
        one=make_thing(7, calls, later=_later("awaited") if awaitables else None,
                       tags=(Tag(label="tuple", weight=1),),
                       words=(w for w in ["gen", "erator"]), count=ValueError("value error")),
        strict_one=make_thing(8, calls, strict_words=["ok", None], grid=[[1, None]],
                              maybe_tags=[None, Tag(label="kept", weight=None)],
                              later=_failing() if awaitables else None),
        broken=BrokenSource(),  # type: ignore[arg-type]
        imposter=Impostor(),  # type: ignore[arg-type]
        node_list=[things[1]],
    )


SCHEMA = strawberry.Schema(query=Query, config=CONFIG)


def _settled(result: Any) -> tuple[str, list[str]]:
    assert isinstance(result, ExecutionResult), result
    errors = [json.dumps(e.formatted, sort_keys=True) for e in result.errors or ()]
    return json.dumps(result.data), errors


async def both(query: str, variables: dict[str, Any] | None = None) -> tuple[str, list[str]]:
    """Executes with both executors; asserts byte-identical results; returns the fast one's."""
    outcomes = []
    for executor in (StrawberryGraphQLCoreExecutionContext, FastExecutor):
        document = parse(query)
        assert not validate(SCHEMA._schema, document), validate(SCHEMA._schema, document)
        data = root([])
        result = execute(SCHEMA._schema, document, root_value=data, variable_values=variables,
                         middleware=MiddlewareManager(), is_awaitable=optimized_is_awaitable,
                         executor_class=executor)
        if optimized_is_awaitable(result):
            result = await result  # type: ignore[misc]
        for thing in (data.one, data.strict_one):
            if asyncio.iscoroutine(thing.later):  # type: ignore[union-attr]
                thing.later.close()  # type: ignore[union-attr]  # not asked for: no warning
        outcomes.append(_settled(result))
    reference, fast = outcomes
    assert fast == reference
    return fast


QUERIES = {
    "plain fields, names and scalars": """{ things { id name nickName price { amount currency }
        when day color shout count words strictWords grid tags { label weight } } }""",
    "aliases and the same field twice": """{ a: things { n: name name n2: name price { a: amount }
        price { currency } } b: one { name } }""",
    "__typename at every level": "{ __typename things { __typename price { __typename } } }",
    "named and inline fragments, type conditions": """
        query { things { ...T ... on Thing { count } ... { day } } nodeList { id ... on Thing {
        name price { amount } } ...N } }
        fragment T on Thing { name tags { ...G } }
        fragment G on Tag { label }
        fragment N on Node { __typename }""",
    "non-null field null bubbles to the nullable list item": """{ nullableThings { name
        requiredNick } }""",
    "non-null null bubbles to the root": "{ things { name } strictOne { name grid } }",
    "non-null list item null": "{ strictOne { strictWords } }",
    "non-null nested list item null": "{ strictOne { grid } }",
    "nullable list item null and object items": "{ strictOne { maybeTags { label } } }",
    "awaitable and exception values, tuple and generator lists": """{ one { later count
        tags { label } words } }""",
    "failing awaitable value": "{ strictOne { name later } }",
    "resolvers mixed in: sync, async with args": """{ things { name computed slow { label weight }
        greet greeting: greet(who: "me") } }""",
    "errors from the read itself": "{ broken { ok boom gone } }",
    "a missing attribute of a non-null field": "{ broken { ok strictGone } things { name } }",
    "an object of the wrong type": "{ imposter { name } }",
    "deep lists of objects with nulls": """{ nullableThings { name maybeTags { label weight }
        price { amount } } }""",
    "a leaf that does not coerce": "{ nullableThings { name count } }",
    "getters: in place, declined, raising, null": """{ things { name firstTag { label weight }
        lastTag { label } guardedTag { label } } nullableThings { count firstTag { label } }
        one { firstTag { label } } }""",
    "a getter's null in a non-null field bubbles": """{ nullableThings { name lastTag {
        label } } things { n: name lastTag { label } } }""",
}


@pytest.mark.parametrize("name", list(QUERIES))
async def test_fast_path_matches_graphql_core(name: str) -> None:
    data, errors = await both(QUERIES[name])
    assert data != "null" or errors  # each query gives something to compare


async def test_null_propagation_and_errors_are_graphql_cores() -> None:
    data, errors = await both(QUERIES["non-null field null bubbles to the nullable list item"])
    assert json.loads(data) == {"nullableThings": [
        {"name": "thing 0", "requiredNick": "r0"}, None, None, {"name": "thing 6",
                                                                "requiredNick": "r6"}]}
    assert [json.loads(e) for e in errors] == [{
        "message": "Cannot return null for non-nullable field Thing.requiredNick.",
        "locations": [{"line": 2, "column": 9}], "path": ["nullableThings", 2, "requiredNick"]}]
    data, errors = await both(QUERIES["non-null null bubbles to the root"])
    assert data == "null"  # a null in strictOne's non-null grid of non-null items
    assert [json.loads(e)["path"] for e in errors] == [["strictOne", "grid", 0, 1]]
    data, errors = await both(QUERIES["errors from the read itself"])
    assert json.loads(data) == {"broken": {"ok": "fine", "boom": None, "gone": None}}
    assert [json.loads(e)["message"] for e in errors] == [
        "boom", "'BrokenSource' object has no attribute 'gone'"]


@pytest.mark.parametrize("skip, include", [(True, True), (True, False), (False, True),
                                           (False, False)])
async def test_skip_and_include_with_variables(skip: bool, include: bool) -> None:
    query = """query($s: Boolean!, $i: Boolean!) { things { name @skip(if: $s)
        count @include(if: $i) price @include(if: $i) { amount @skip(if: $s) currency }
        ... on Thing @skip(if: $s) { day } __typename @include(if: $i) } }"""
    data, _ = await both(query, {"s": skip, "i": include})
    first = json.loads(data)["things"][0]
    assert ("name" in first) is not skip and ("count" in first) is include
    # The same document with other variables gets its own plan (the collected fields differ).


def test_plans_are_cached_across_executions() -> None:
    query = "{ things { name price { amount } } }"
    document = parse(query)
    for _ in range(2):
        execute(SCHEMA._schema, document, root_value=root([], False), middleware=MiddlewareManager(),
                is_awaitable=optimized_is_awaitable, executor_class=FastExecutor)
    size = len(PLANS)
    for _ in range(3):
        execute(SCHEMA._schema, document, root_value=root([], False), middleware=MiddlewareManager(),
                is_awaitable=optimized_is_awaitable, executor_class=FastExecutor)
    assert len(PLANS) == size  # the same nodes: no new plans


class CountingFastExecutor(FastExecutor):
    ordinary: list[str] = []

    def execute_field(self, parent_type: Any, source: Any, field_details_list: Any, path: Any,
                      position_context: Any) -> Any:
        self.ordinary.append(f"{parent_type.name}.{field_details_list[0].node.name.value}")
        return super().execute_field(parent_type, source, field_details_list, path,
                                     position_context)


async def test_only_fields_with_resolvers_take_the_ordinary_path() -> None:
    CountingFastExecutor.ordinary = []
    execute(SCHEMA._schema, parse("{ things { name price { amount } computed greet } }"),
            root_value=root([], False), middleware=MiddlewareManager(),
            is_awaitable=optimized_is_awaitable, executor_class=CountingFastExecutor)
    # The root field is a plain attribute of the root value here, so it is read in place too.
    assert sorted(set(CountingFastExecutor.ordinary)) == ["Thing.computed", "Thing.greet"]
    assert len(CountingFastExecutor.ordinary) == 6  # three things, two resolvers each


class Recorder(SchemaExtension):
    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


async def test_an_extension_resolve_hook_sees_every_field() -> None:
    schema = strawberry.Schema(query=Query, extensions=[Recorder], config=CONFIG,
                               execution_context_class=FastExecutor)
    Recorder.seen = []
    result = await schema.execute("{ things { name price { amount } } }",
                                  root_value=root([], False))
    assert not result.errors
    assert Recorder.seen.count("name") == 3 and Recorder.seen.count("amount") == 3


async def test_getters_answer_in_place_and_decline_to_the_resolver() -> None:
    CountingFastExecutor.ordinary = []
    calls: list[str] = []
    result = execute(SCHEMA._schema, parse("{ things { firstTag { label } guardedTag { label } } }"),
                     root_value=root(calls, False), middleware=MiddlewareManager(),
                     is_awaitable=optimized_is_awaitable, executor_class=CountingFastExecutor)
    assert isinstance(result, ExecutionResult)
    # Thing 0 answered by the getter, thing 1 declined (its resolver ran), thing 2's getter
    # raised (an error at its path, as the resolver's would be); the permission field always
    # goes through its resolver.
    assert sorted(CountingFastExecutor.ordinary) == ["Thing.firstTag"] + ["Thing.guardedTag"] * 3
    assert calls == ["first_tag"]
    assert result.data is not None
    assert [t["firstTag"] for t in result.data["things"]] == [{"label": "t0"}, {"label": "t1"},
                                                               None]
    assert [(e.message, e.path) for e in result.errors or ()] == [
        ("no first tag for two", ["things", 2, "firstTag"])]


# --- differential mode ------------------------------------------------------------------------


def _diff_execute(executor: type, query: str, calls: list[str]) -> Any:
    return execute(SCHEMA._schema, parse(query), root_value=root(calls, False),
                   middleware=MiddlewareManager(), is_awaitable=optimized_is_awaitable,
                   executor_class=executor)


def test_differential_mode_takes_typename_as_plain() -> None:
    result = _diff_execute(DiffExecutor, "{ __typename things { __typename name } }", [])
    assert not result.errors and result.data["__typename"] == "Query"


async def test_differential_mode_runs_each_resolver_once() -> None:
    calls: list[str] = []
    before = dict(execution_diff.STATS)
    result = _diff_execute(DiffExecutor, "{ things { name computed slow { label } } }", calls)
    result = await result
    assert not result.errors
    assert sorted(calls) == sorted(["thing 0", "thing 1", "thing 2"] + ["slow"] * 3)
    assert execution_diff.STATS["operations"] == before["operations"] + 1
    # things, then per thing: name, computed, slow, label; the fast run replayed 6 of them.
    assert execution_diff.STATS["fields"] - before["fields"] == 1 + 3 * 4
    assert execution_diff.STATS["ordinary_fields"] - before["ordinary_fields"] == 6


class WrongFastExecutor(DiffExecutor):
    """A fast path with a bug: it upper-cases the strings it reads in place."""

    def _execute_plan(self, plan: Any, parent_type: Any, source: Any, path: Any,
                      fields: Any) -> Any:
        results = super()._execute_plan(plan, parent_type, source, path, fields)
        if self.fast_path and isinstance(results, dict) and isinstance(results.get("name"), str):
            results["name"] = results["name"].upper()
        return results


@pytest.fixture
def restore_mismatches() -> Iterator[None]:
    seen = len(execution_diff.MISMATCHES)
    yield
    del execution_diff.MISMATCHES[seen:]  # this test's own, expected


def test_differential_mode_catches_a_getter_that_disagrees_with_its_resolver(
        restore_mismatches: None) -> None:
    with pytest.raises(ExecutionMismatch, match="fast execution differs") as raised:
        _diff_execute(DiffExecutor, "{ things { lyingTag { label } } }", [])
    assert "from the getter" in str(raised.value) and "from the resolver" in str(raised.value)


def test_differential_mode_fails_loudly_on_a_difference(restore_mismatches: None) -> None:
    with pytest.raises(ExecutionMismatch, match="fast execution differs") as raised:
        _diff_execute(WrongFastExecutor, "{ things { name } }", [])
    assert '"name": "THING 0"' in str(raised.value) and '"name": "thing 0"' in str(raised.value)
    assert execution_diff.MISMATCHES
