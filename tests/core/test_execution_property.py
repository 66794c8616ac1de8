"""Property: for random selections over the real schema, against the suite's database, the fast
path (graphql_api/core/fast_execution.py) and graphql-core's reference executor give the same
response, byte for byte.

Unlike the differential mode (which replays the reference run's resolver outcomes in the fast
run), each executor here runs the whole operation itself, resolvers and database reads included,
through Strawberry's `Schema.execute` with the server's extensions. Selections are drawn from
the schema's own types: fields (with `first: 2` where a field takes it), aliases, the same field
twice (merged), inline fragments with and without a type condition, named fragments,
`@skip`/`@include` on variables, `__typename`, nested connections and lists, and abstract
types (`node`) through type conditions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_non_null_type,
    parse,
    validate,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from graphql_api.context import Context
from graphql_api.core.resources import Resources
from graphql_api.core.settings import Settings
from graphql_api.schema import Executor, ReferenceExecutor, build_schema

MAX_DEPTH = 4
# Root fields with arguments that find data in the seeded catalog ($pid: a product's ID).
ROOTS = [
    ("Query", "products(first: 3)", "products"),
    ("Query", "categories", "categories"),
    ("Query", "product(id: $pid)", "product"),
    ("Query", "node(id: $pid)", "node"),
    ("Query", "me", "me"),
    ("Query", "orders(first: 2)", "orders"),
]


@dataclass
class Builder:
    schema: GraphQLSchema
    draw: Any
    fragments: list[str] = field(default_factory=list)
    names: int = 0

    def name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def directive(self) -> str:
        choice = self.draw(st.sampled_from(["", "", "", " @skip(if: $a)", " @include(if: $b)",
                                            " @skip(if: false)", " @include(if: true)"]))
        return choice

    def selection(self, type_: GraphQLNamedType, depth: int) -> str:
        if is_abstract_type(type_):
            possible = list(self.schema.get_possible_types(type_))  # type: ignore[arg-type]
            chosen = self.draw(st.lists(st.sampled_from(possible), min_size=1, max_size=2,
                                        unique_by=lambda t: t.name))
            parts = ["__typename"] + [f"... on {t.name}{self.directive()} "
                                      f"{{ {self.fields(t, depth)} }}" for t in chosen]
            return " ".join(parts)
        assert isinstance(type_, GraphQLObjectType)
        return self.fields(type_, depth)

    def fields(self, type_: GraphQLObjectType, depth: int) -> str:
        usable = [(n, f) for n, f in type_.fields.items() if _callable_without_args(f)
                  and (depth < MAX_DEPTH or is_leaf_type(get_named_type(f.type)))]
        picked = self.draw(st.lists(st.sampled_from(usable), min_size=1, max_size=4)) if usable \
            else []
        parts = [self.field(n, f, depth) for n, f in picked]
        if self.draw(st.booleans()):
            parts.append("__typename" + self.directive())
        if not parts:
            parts.append("__typename")
        # Wrap some of them: an inline fragment (with or without its type), or a named one.
        wrap = self.draw(st.sampled_from(["none", "none", "inline", "bare", "named"]))
        if wrap == "none" or len(parts) < 2:
            return " ".join(parts)
        cut = self.draw(st.integers(1, len(parts) - 1))
        inner, outer = " ".join(parts[:cut]), parts[cut:]
        if wrap == "inline":
            outer.append(f"... on {type_.name}{self.directive()} {{ {inner} }}")
        elif wrap == "bare":
            outer.append(f"...{self.directive()} {{ {inner} }}")
        else:
            name = self.name("F")
            self.fragments.append(f"fragment {name} on {type_.name} {{ {inner} }}")
            outer.append(f"...{name}{self.directive()}")
        return " ".join(outer)

    def field(self, name: str, field_def: GraphQLField, depth: int) -> str:
        alias = f"{self.name('a')}: " if self.draw(st.integers(0, 3)) == 0 else ""
        args = "(first: 2)" if "first" in field_def.args else ""
        text = f"{alias}{name}{args}{self.directive()}"
        named = get_named_type(field_def.type)
        if is_leaf_type(named):
            return text
        return f"{text} {{ {self.selection(named, depth + 1)} }}"


def _callable_without_args(field_def: GraphQLField) -> bool:
    """No required argument (those are not drawn), and not a list that grows (only `first`)."""
    return all(not is_non_null_type(a.type) or a.default_value is not None
               for a in field_def.args.values())


@st.composite
def operations(draw: Any, schema: GraphQLSchema) -> tuple[str, dict[str, Any]]:
    builder = Builder(schema, draw)
    roots = draw(st.lists(st.sampled_from(ROOTS), min_size=1, max_size=2,
                          unique_by=lambda r: r[2]))
    parts = []
    for parent, call, name in roots:
        field_def = schema.get_type(parent).fields[name]  # type: ignore[union-attr]
        named = get_named_type(field_def.type)
        inner = "" if is_leaf_type(named) else f" {{ {builder.selection(named, 1)} }}"
        parts.append(f"{call}{builder.directive()}{inner}")
    body = " ".join(parts) + " } " + " ".join(builder.fragments)
    declared = [d for d in ("$pid: ID!", "$a: Boolean!", "$b: Boolean!")
                if d.split(":")[0] in body]  # an unused variable is invalid
    query = f"query Q{'(' + ', '.join(declared) + ')' if declared else ''} {{ {body}"
    return query, {"a": draw(st.booleans()), "b": draw(st.booleans())}


@pytest.fixture(scope="module")
def reference_schema(prepared: Settings) -> Any:
    return build_schema(prepared.model_copy(update={"graphql_exec_diff": False}))


@pytest.fixture(scope="module")
async def product_id(gql: Any) -> str:
    data = await gql.data("{ products(first: 1) { edges { node { id } } } }")
    return data["products"]["edges"][0]["node"]["id"]  # type: ignore[no-any-return]


async def _respond(schema: Any, executor: type, query: str, variables: dict[str, Any],
                   resources: Resources, app: Starlette, token: str | None) -> str:
    schema.execution_context_class = executor
    context = Context(resources=resources, signer=app.state.signer, token=token,
                      request_id="property-test")
    result = await schema.execute(query, variable_values=variables, context_value=context)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [e.formatted for e in result.errors]
    return json.dumps(body, default=str)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_random_selections_match_the_reference(
    data: st.DataObject, reference_schema: Any, resources: Resources, app: Starlette,
    product_id: str, admin_token: str
) -> None:
    query, variables = data.draw(operations(reference_schema._schema))
    variables["pid"] = product_id
    # (Fields of one name on two types in `node`'s fragments may conflict: not a valid query.)
    assume(not validate(reference_schema._schema, parse(query)))
    token = data.draw(st.sampled_from([None, admin_token]))
    reference = await _respond(reference_schema, ReferenceExecutor, query, variables, resources,
                               app, token)
    fast = await _respond(reference_schema, Executor, query, variables, resources, app, token)
    assert fast == reference, f"{query}\n{variables}"
    assert '"data": null' not in reference or '"errors"' in reference
