"""A faster graphql-core executor for fields that are plain attribute reads.

graphql-core executes every field the same way: build a resolve info, call the resolver (for a
Strawberry field without a resolver, a wrapper that calls `getattr`), check for an awaitable,
then complete the value through `complete_value`'s chain of type tests. For a catalog page,
~140 fields of which ~120 are attribute reads, that generic path is most of the request's CPU.

`FastExecutor` keeps graphql-core's execution as it is (collecting fields, `@skip`/`@include`,
fragments, the root and mutation fields, errors, null propagation) and changes one step:
executing a collected selection set. For each (object type, collected field set) it makes a
*plan* once: per response name, either "ordinary" (anything with a resolver, arguments, field
extensions or permissions, abstract or unknown types, directives other than skip/include) or
"plain" with the value's completion worked out in advance (leaf: its coercion; object: its
type check and sub-selection; list: the same for its items). A plain field is then read with
Strawberry's default resolver and completed in place; an ordinary one goes through
graphql-core's `execute_field` as before. Any value the plan does not expect (an awaitable, an
exception, a non-list iterable, a nested list) is completed by graphql-core's own code, and
errors go through its `handle_field_error`, so the paths, locations, messages and the bubbling
of nulls are graphql-core's own.

Plans are cached across requests (`PlanCache`), keyed by the object type and the field nodes
of the collected set: the same document (the parser cache hands out the same nodes for the
same text) with the same skip/include outcome gets the same plan; the plans hold their nodes,
so an id in a key cannot be reused while its entry lives.

A field with a resolver can offer a *getter* too (`fast_read`): a synchronous function of the
source alone that gives the resolver's value when it can do so without the resolve info (a
product's category when the read joined it in), or `READ_ORDINARILY` when it cannot. Its step
calls the getter and completes the value in place; `READ_ORDINARILY` sends that field through
`execute_field` and its real resolver. The getter must be the resolver's own first step (the
resolver calls it), so the two cannot disagree; the differential tests check they do not.

If a schema extension hooks `resolve` (graphql-core middleware), every field must pass through
it, and the whole operation takes the ordinary path.
"""

from __future__ import annotations

import datetime
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias, cast

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import collect_iterator_awaitables, invalid_return_type_error, to_nodes
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graphql_api.core.acyclic_execution import AcyclicExecutor

# Step kinds (PLAIN and GETTER read in place: `>= PLAIN`).
ORDINARY, TYPENAME, PLAIN, GETTER = 0, 1, 2, 3
# Completion kinds.
LEAF, OBJECT, LIST = 0, 1, 2

# Leaf values that are never awaitable nor an exception: completed by their coercion alone.
SAFE_LEAF_TYPES: frozenset[type] = frozenset({
    str, int, float, bool, Decimal, datetime.datetime, datetime.date, datetime.time, uuid.UUID,
})
# Coercions that return a value of this exact type unchanged.
_IDENTITY: dict[object, type] = {serialize_string: str, serialize_id: str, serialize_boolean: bool}
_BASIC_RESOLVER = "GraphQLCoreConverter.from_resolver.<locals>._get_basic_result"
_SYNC_RESOLVER = "GraphQLCoreConverter.from_resolver.<locals>._resolver"
_STRAWBERRY_IS_TYPE_OF = "GraphQLCoreConverter.from_object.<locals>._get_is_type_of.<locals>.is_type_of"
_PLAIN_DIRECTIVES = frozenset({"skip", "include"})
_NO_STEP = (None,) * 5

# A completion, by kind:
#   (LEAF, non_null, null_message, coerce, safe_types, leaf_type, identity_type)
#   (OBJECT, non_null, null_message, object_type, is_type_of)
#   (LIST, non_null, null_message, item_completion, item_type)
Completion: TypeAlias = tuple[Any, ...]
# A step: (kind, response_name, read, attribute, completion, return_type, field_def);
# an ordinary or __typename step fills only the first two (the rest None).
Step: TypeAlias = tuple[Any, ...]
Plan: TypeAlias = tuple[Step, ...]


# A field's metadata key for its getter, and what a getter returns when it cannot answer.
FAST_READ = "graphql_api.fast_read"
READ_ORDINARILY: Any = object()


def fast_read(getter: Callable[[Any], Any]) -> Mapping[str, Any]:
    """`strawberry.field(metadata=fast_read(getter))`: the field may be read by `getter(source)`
    (see the module's docstring)."""
    return {FAST_READ: getter}


class _Ordinarily(Exception):
    """A getter answered READ_ORDINARILY: the field goes through `execute_field`."""


def _completion(output_type: GraphQLOutputType, null_message: str) -> Completion | None:
    """How to complete a value of `output_type` in place, or None when graphql-core must."""
    type_: Any = output_type
    non_null = is_non_null_type(type_)
    if non_null:
        type_ = type_.of_type
    if is_list_type(type_):
        item_type = type_.of_type
        item = _completion(item_type, null_message)
        return None if item is None else (LIST, non_null, null_message, item, item_type)
    if is_leaf_type(type_):
        coerce = type_.coerce_output_value
        safe = SAFE_LEAF_TYPES
        definition = getattr(type_, "extensions", {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        enum = getattr(definition, "wrapped_cls", None)
        if isinstance(enum, type) and not issubclass(enum, BaseException) and not hasattr(
                enum, "__await__"):
            safe = safe | {enum}  # a Strawberry enum's members
        identity = next((t for f, t in _IDENTITY.items() if f is coerce), None)
        return (LEAF, non_null, null_message, coerce, safe, type_, identity)
    if is_object_type(type_):
        is_type_of = type_.is_type_of
        # Strawberry's own check ignores the resolve info; another one might need it.
        if is_type_of is not None and getattr(is_type_of, "__qualname__", "") != (
                _STRAWBERRY_IS_TYPE_OF):
            return None
        return (OBJECT, non_null, null_message, type_, is_type_of)
    return None  # an interface or a union: its runtime type is graphql-core's to resolve


def _plain_field(field_def: GraphQLField, details: FieldDetailsList) -> StrawberryField | None:
    """The Strawberry field behind `field_def` if reading it is a plain attribute read."""
    resolve = field_def.resolve
    if resolve is None or getattr(resolve, "__qualname__", "") != _BASIC_RESOLVER:
        return None
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or not field.is_basic_field or field_def.args or (
            type(field).get_result is not StrawberryField.get_result):
        return None
    return field if _plain_selection(details) else None


def _getter(field_def: GraphQLField, details: FieldDetailsList) -> Callable[[Any], Any] | None:
    """The getter of a resolver field that may be read by it: a synchronous resolver without
    arguments, field extensions (permissions are one) or exception handlers (Strawberry's
    synchronous `_resolver` then only builds the info and calls the resolver)."""
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    getter = declared_getter(field_def)
    if getter is None or not isinstance(field, StrawberryField) or field_def.args or (
            field.extensions or field.is_async
            or getattr(field_def.resolve, "__qualname__", "") != _SYNC_RESOLVER):
        return None
    if any(cell_name == "field_exception_handlers" and cell
           for cell_name, cell in _closure(field_def.resolve)):
        return None
    return getter if _plain_selection(details) else None


def declared_getter(field_def: GraphQLField) -> Callable[[Any], Any] | None:
    """The getter a resolver field declares (`fast_read`), whether or not a step may use it."""
    field = field_def.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(field, StrawberryField) or field.base_resolver is None:
        return None
    metadata: Mapping[Any, Any] = field.metadata or {}
    return cast("Callable[[Any], Any] | None", metadata.get(FAST_READ))


def _closure(function: Any) -> list[tuple[str, Any]]:
    names = function.__code__.co_freevars
    return [(n, c.cell_contents) for n, c in zip(names, function.__closure__ or (), strict=True)]


def _plain_selection(details: FieldDetailsList) -> bool:
    """No arguments, no fragment variables, no directives but skip/include."""
    for detail in details:
        node = detail.node
        if node.arguments or detail.fragment_variable_values is not None or any(
                d.name.value not in _PLAIN_DIRECTIVES for d in node.directives or ()):
            return False
    return True


def _read_by(getter: Callable[[Any], Any]) -> Callable[[Any, str], Any]:
    return lambda source, _attribute: getter(source)


def make_plan(schema: GraphQLSchema, parent_type: GraphQLObjectType,
              fields: GroupedFieldSet) -> Plan:
    steps: list[Step] = []
    for response_name, details in fields.items():
        field_name = details[0].node.name.value
        if field_name == "__typename":
            plain_typename = all(not d.node.directives or all(
                x.name.value in _PLAIN_DIRECTIVES for x in d.node.directives) for d in details)
            steps.append((TYPENAME if plain_typename else ORDINARY, response_name, *_NO_STEP))
            continue
        field_def = schema.get_field(parent_type, field_name)
        if field_def is None:
            continue  # graphql-core leaves it out of the result (validation rules it out)
        field = _plain_field(field_def, details)
        getter = None if field is not None else _getter(field_def, details)
        completion = None if field is None and getter is None else _completion(
            field_def.type, f"Cannot return null for non-nullable field {parent_type}.{field_name}.")
        if completion is None:
            steps.append((ORDINARY, response_name, *_NO_STEP))
        elif field is not None:
            steps.append((PLAIN, response_name, field.default_resolver, field.python_name,
                          completion, field_def.type, field_def))
        else:
            assert getter is not None
            steps.append((GETTER, response_name, _read_by(getter), None, completion,
                          field_def.type, field_def))
    return tuple(steps)


def _leaf_error(leaf_type: Any, value: Any, coerced: Any) -> TypeError:
    return TypeError(f"Expected `{inspect(leaf_type)}.coerce_output_value({inspect(value)})` to "
                     f"return non-nullable value, returned: {inspect(coerced)}")


class PlanCache:
    """Plans by (object type, collected fields), least recently used out beyond `maxsize`."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._plans: OrderedDict[tuple[Any, ...], tuple[Plan, Sequence[Any]]] = OrderedDict()

    def plan(self, schema: GraphQLSchema, parent_type: GraphQLObjectType,
             fields: GroupedFieldSet) -> Plan:
        key = (parent_type, *[(name, *[id(d.node) for d in details])
                              for name, details in fields.items()])
        plans = self._plans
        entry = plans.get(key)
        if entry is not None:
            plans.move_to_end(key)
            return entry[0]
        plan = make_plan(schema, parent_type, fields)
        # The nodes kept with the plan keep their ids from being reused by other nodes.
        plans[key] = (plan, [d.node for details in fields.values() for d in details])
        if len(plans) > self.maxsize:
            plans.popitem(last=False)
        return plan

    def __len__(self) -> int:
        return len(self._plans)


PLANS = PlanCache()


# Classes whose instances graphql-core would find neither awaitable nor an exception, by their
# class alone: Strawberry object types without `__await__` or a custom attribute lookup. (An
# `__await__` set on one instance would make graphql-core await it; nothing does that.)
_SYNC_CLASSES: dict[type, bool] = {}


def _is_sync_class(cls: type) -> bool:
    sync = _SYNC_CLASSES.get(cls)
    if sync is None:
        sync = _SYNC_CLASSES[cls] = (
            hasattr(cls, "__strawberry_definition__") and not issubclass(cls, BaseException)
            and not hasattr(cls, "__await__")
            and cls.__getattribute__ is object.__getattribute__
            and not hasattr(cls, "__getattr__"))
    return sync


class FastExecutor(AcyclicExecutor):
    """Strawberry's executor, with plain fields read and completed in place (see above)."""

    fast_path = True  # False: execute every field the ordinary way (the reference)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per execution: the plan of each collected field set (kept alive with it), and the
        # sub-selection of each plain object field: (its field details, collected fields, plan).
        self._plans: dict[int, tuple[GroupedFieldSet, Plan]] = {}
        self._subs: dict[int, tuple[FieldDetailsList, GroupedFieldSet, Plan]] = {}
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            self.fast_path = False  # an extension's `resolve` hook must see every field

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = cast("FastExecutor", super().build_per_event_executor(payload))
        executor._plans, executor._subs = {}, {}  # each event collects its root fields anew
        return executor

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> Plan:
        entry = self._plans.get(id(fields))
        if entry is None:
            plan = PLANS.plan(self.schema, parent_type, fields)
            self._plans[id(fields)] = (fields, plan)
            return plan
        return entry[1]

    def _sub(self, object_type: GraphQLObjectType, details: FieldDetailsList
             ) -> tuple[FieldDetailsList, GroupedFieldSet, Plan]:
        """The collected sub-fields of an object field and their plan (the type is concrete,
        so the field's details decide them)."""
        sub = self._subs.get(id(details))
        if sub is None:
            fields = self.collect_subfields(object_type, details)[0]
            sub = self._subs[id(details)] = (details, fields, self._plan(object_type, fields))
        return sub

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: GroupedFieldSet, position_context: Any) -> Any:
        if not self.fast_path or position_context is not None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        if path is None:  # the root: collected once per execution
            plan = PLANS.plan(self.schema, parent_type, grouped_field_set)
        else:
            plan = self._plan(parent_type, grouped_field_set)
        return self._execute_plan(plan, parent_type, source_value, path, grouped_field_set)

    # --- one selection set ----------------------------------------------------------------------

    def _execute_plan(self, plan: Plan, parent_type: GraphQLObjectType, source: Any,
                      path: Path | None, fields: GroupedFieldSet) -> Any:
        """graphql-core's `execute_fields`, with the plain steps done in place."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        type_name = parent_type.name
        try:
            for kind, name, read, attribute, completion, return_type, _ in plan:
                if kind >= PLAIN:
                    try:
                        value = read(source, attribute)
                        if value is None:
                            if completion[1]:
                                raise TypeError(completion[2])
                            results[name] = None
                            continue
                        completion_kind = completion[0]
                        value_type = type(value)
                        if completion_kind == LEAF:
                            if value_type is completion[6]:
                                results[name] = value
                                continue
                            if value_type in completion[4]:
                                coerced = completion[3](value)
                                if coerced is None or coerced is Undefined:
                                    raise _leaf_error(completion[5], value, coerced)
                                results[name] = coerced
                                continue
                        elif completion_kind == OBJECT and (
                                _SYNC_CLASSES.get(value_type) or _is_sync_class(value_type)):
                            object_type = completion[3]
                            is_type_of = completion[4]
                            if is_type_of is not None and not is_type_of(value, None):
                                raise invalid_return_type_error(object_type, value, fields[name])
                            field_path = Path(path, name, type_name)
                            details, sub_fields, sub_plan = self._sub(object_type, fields[name])
                            completed = self._execute_plan(sub_plan, object_type, value,
                                                           field_path, sub_fields)
                            if type(completed) is not dict:
                                completed = self._await_completed(completed, return_type,
                                                                  details, field_path)
                                awaitable_fields.append(name)
                            results[name] = completed
                            continue
                        if value is READ_ORDINARILY:
                            raise _Ordinarily
                        completed = self._complete_plain(kind, name, completion, return_type,
                                                         parent_type, path, fields, value)
                    except _Ordinarily:
                        pass  # the getter could not answer: the resolver will, below
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, return_type, fields[name],
                                                Path(path, name, type_name))
                        results[name] = None
                        continue
                    else:
                        results[name] = completed
                        if is_awaitable(completed):
                            awaitable_fields.append(name)
                        continue
                elif kind == TYPENAME:
                    results[name] = type_name
                    continue
                result = self.execute_field(parent_type, source, fields[name],
                                            Path(path, name, type_name), None)
                if result is not Undefined:
                    results[name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _complete_plain(self, kind: int, name: str, completion: Completion,
                        return_type: GraphQLOutputType, parent_type: GraphQLObjectType,
                        path: Path | None, fields: GroupedFieldSet, value: Any) -> Any:
        """A plain field's value (not None) completed; raises as `complete_value` does."""
        if isinstance(value, Exception) or self.is_awaitable(value):
            return self._complete_generic(name, return_type, parent_type, path, fields, value)
        completion_kind = completion[0]
        if completion_kind == LEAF:
            coerced = completion[3](value)
            if coerced is None or coerced is Undefined:
                raise _leaf_error(completion[5], value, coerced)
            return coerced
        field_path = Path(path, name, parent_type.name)
        details = fields[name]
        if completion_kind == OBJECT:
            completed = self._complete_object(completion, details, field_path, value)
        elif type(value) is list or type(value) is tuple:
            completed = self._complete_list(completion, parent_type, details, field_path, value)
        else:  # another iterable (or not one): graphql-core's checks and messages
            return self._complete_generic(name, return_type, parent_type, path, fields, value)
        if type(completed) is not dict and type(completed) is not list and self.is_awaitable(
                completed):
            return self._await_completed(completed, return_type, details, field_path)
        return completed

    def _complete_generic(self, name: str, return_type: GraphQLOutputType,
                          parent_type: GraphQLObjectType, path: Path | None,
                          fields: GroupedFieldSet, value: Any) -> Any:
        """What `execute_field` does with a resolver's result."""
        details = fields[name]
        field_path = Path(path, name, parent_type.name)
        info = self._info(parent_type, details, field_path)
        if self.is_awaitable(value):
            return self.complete_awaitable_value(return_type, details, info, field_path, value, None)
        completed = self.complete_value(return_type, details, info, field_path, value, None)
        if self.is_awaitable(completed):
            return self._await_completed(completed, return_type, details, field_path)
        return completed

    def _info(self, parent_type: GraphQLObjectType, details: FieldDetailsList, path: Path) -> Any:
        field_def = self.schema.get_field(parent_type, details[0].node.name.value)
        assert field_def is not None  # a plain step's field exists
        return self.build_resolve_info(field_def, to_nodes(details), parent_type, path)

    async def _await_completed(self, completed: Awaitable[Any], return_type: GraphQLOutputType,
                               details: FieldDetailsList, path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    def _complete_object(self, completion: Completion, details: FieldDetailsList, path: Path,
                         value: Any) -> Any:
        """`complete_object_value` for an object type with Strawberry's (or no) type check."""
        object_type = completion[3]
        is_type_of = completion[4]
        if is_type_of is not None and not is_type_of(value, None):
            raise invalid_return_type_error(object_type, value, details)
        _, fields, plan = self._sub(object_type, details)
        return self._execute_plan(plan, object_type, value, path, fields)

    def _complete_list(self, completion: Completion, parent_type: GraphQLObjectType,
                       details: FieldDetailsList, path: Path, items: Sequence[Any]) -> Any:
        """`complete_iterable_value` for a list or tuple (no @stream: the plan rules it out)."""
        item_completion = completion[3]
        item_type = completion[4]
        item_kind = item_completion[0]
        item_non_null = item_completion[1]
        is_awaitable = self.is_awaitable
        handle_field_error = self.handle_field_error
        completed_results: list[Any] = []
        append = completed_results.append
        awaitable_indices: list[int] = []
        info = None
        object_type = sub_fields = sub_plan = is_type_of = None
        if item_kind == OBJECT:
            object_type, is_type_of = item_completion[3], item_completion[4]
            _, sub_fields, sub_plan = self._sub(object_type, details)
        execute_plan = self._execute_plan
        iterator = iter(items)
        index = 0
        try:
            for item in iterator:
                if item is None:
                    if item_non_null:
                        handle_field_error(TypeError(item_completion[2]), item_type, details,
                                           path.add_key(index, None))
                    append(None)
                elif item_kind == OBJECT and (_SYNC_CLASSES.get(type(item))
                                              or _is_sync_class(type(item))):
                    item_path = Path(path, index, None)
                    try:
                        if is_type_of is not None and not is_type_of(item, None):
                            raise invalid_return_type_error(object_type, item,  # type: ignore[arg-type]
                                                            details)
                        completed = execute_plan(sub_plan, object_type, item, item_path,  # type: ignore[arg-type]
                                                 sub_fields)  # type: ignore[arg-type]
                    except Exception as raw_error:
                        handle_field_error(raw_error, item_type, details, item_path)
                        append(None)
                    else:
                        if type(completed) is dict:
                            append(completed)
                        else:
                            append(self._await_completed(completed, item_type, details, item_path))
                            awaitable_indices.append(index)
                elif item_kind == LEAF and type(item) in item_completion[4]:
                    try:
                        coerced = item_completion[3](item)
                        if coerced is None or coerced is Undefined:
                            raise _leaf_error(item_completion[5], item, coerced)
                    except Exception as raw_error:
                        handle_field_error(raw_error, item_type, details, path.add_key(index, None))
                        coerced = None
                    append(coerced)
                else:  # graphql-core's own item completion, with the resolve info it needs
                    if info is None:
                        info = self._info(parent_type, details, path)
                    item_path = path.add_key(index, None)
                    if is_awaitable(item):
                        append(self.complete_awaitable_list_item_value(
                            item, item_type, details, info, item_path, None))
                        awaitable_indices.append(index)
                    elif self.complete_list_item_value(item, completed_results, item_type,
                                                       details, info, item_path, None):
                        awaitable_indices.append(index)
                index += 1
        except Exception:
            pending = [completed_results[i] for i in awaitable_indices]
            pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if pending:
                self.settle_in_background(pending)
            raise

        if not awaitable_indices:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                i = awaitable_indices[0]
                completed_results[i] = await completed_results[i]
            else:
                awaited = await gather_with_cancel(*(completed_results[i]
                                                     for i in awaitable_indices))
                for i, result in zip(awaitable_indices, awaited, strict=True):
                    completed_results[i] = result
            return completed_results

        return get_completed_results()


__all__ = ["PLANS", "FastExecutor", "PlanCache", "make_plan"]
