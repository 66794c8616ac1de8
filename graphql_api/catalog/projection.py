"""The product columns a listing's selection needs, so that an uncached page reads only those.

Decoding a product row's 23 columns (two of them JSON, two numerics, three timestamps) is most
of a page read's CPU: on this machine asyncpg fetched the 21 rows of `products(first: 20)` in
~305 µs of CPU with every column and ~110 µs with the five the storefront listing asks for.

`listing_columns` walks the `products` field's selection (fragments included) and maps each
Product field to the record fields its value comes from (`PRODUCT_FIELD_COLUMNS`). Anything it
does not know (a field missing from the map, a fragment on another type, a field of the
connection it does not expect) means "every column", so a field added to Product without a
line here is read the way it always was. The answer is cached per field node: the parser cache
hands out the same nodes for the same text.

A record read this way holds `NOT_READ` in the fields it skipped; nothing the selection asks
for reads them (tests/catalog/test_projection.py checks each Product field against a full read).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

# Record fields (ProductRecord's names) behind each Product field; "category" stands for the
# joined category's columns.
PRODUCT_FIELD_COLUMNS: dict[str, frozenset[str]] = {
    "__typename": frozenset(),
    "id": frozenset({"id"}),
    "sku": frozenset({"sku"}),
    "slug": frozenset({"slug"}),
    "name": frozenset({"name"}),
    "description": frozenset({"description"}),
    "price": frozenset({"price", "currency"}),
    "discountPercent": frozenset({"discount_percent"}),
    "stock": frozenset({"stock"}),
    "inStock": frozenset({"stock"}),
    "brand": frozenset({"brand"}),
    "tags": frozenset({"tags"}),
    "images": frozenset({"images"}),
    "thumbnail": frozenset({"images"}),
    "rating": frozenset({"rating"}),
    "reviewCount": frozenset({"review_count"}),
    "createdAt": frozenset({"created_at"}),
    "updatedAt": frozenset({"updated_at"}),
    "salePrice": frozenset({"price", "currency", "discount_percent"}),
    "category": frozenset({"category_id", "category"}),
    "reviews": frozenset({"id", "review_count"}),
}
_NODE_TYPES = frozenset({"Product", "Node"})
_CONNECTION_TYPES = frozenset({"ProductConnection"})
_EDGE_TYPES = frozenset({"ProductEdge"})
_MAX_ENTRIES = 512


class _Unknown(Exception):
    """The selection holds something the map does not cover: read every column."""


def _fields(selection_set: SelectionSetNode | None, fragments: dict[str, Any],
            types: frozenset[str]) -> Iterator[FieldNode]:
    """The fields of a selection set on one of `types`, fragments spread out."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is not None and condition.name.value not in types:
                raise _Unknown
            yield from _fields(selection.selection_set, fragments, types)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or fragment.type_condition.name.value not in types:
                raise _Unknown
            yield from _fields(fragment.selection_set, fragments, types)
        else:
            raise _Unknown


def _node_columns(node: FieldNode, fragments: dict[str, Any], into: set[str]) -> None:
    for field in _fields(node.selection_set, fragments, _NODE_TYPES):
        columns = PRODUCT_FIELD_COLUMNS.get(field.name.value)
        if columns is None:
            raise _Unknown
        into |= columns


def _columns(field_nodes: Sequence[FieldNode], fragments: dict[str, Any]) -> frozenset[str]:
    needed: set[str] = {"id"}
    for connection in field_nodes:
        for field in _fields(connection.selection_set, fragments, _CONNECTION_TYPES):
            name = field.name.value
            if name == "nodes":
                _node_columns(field, fragments, needed)
            elif name == "edges":
                for edge_field in _fields(field.selection_set, fragments, _EDGE_TYPES):
                    if edge_field.name.value == "node":
                        _node_columns(edge_field, fragments, needed)
                    elif edge_field.name.value not in ("cursor", "__typename"):
                        raise _Unknown
            elif name not in ("pageInfo", "totalCount", "__typename"):
                raise _Unknown
    return frozenset(needed)


_CACHE: OrderedDict[tuple[int, ...], tuple[Sequence[FieldNode], frozenset[str] | None]] = (
    OrderedDict())


def listing_columns(field_nodes: Sequence[FieldNode], fragments: dict[str, Any],
                    sort_column: str) -> frozenset[str] | None:
    """The record fields a `products` selection needs (with the sort's, for its cursors), or
    None for all of them."""
    key = tuple(id(node) for node in field_nodes)
    entry = _CACHE.get(key)
    if entry is None:
        try:
            columns: frozenset[str] | None = _columns(field_nodes, fragments)
        except _Unknown:
            columns = None
        # The entry holds the nodes, so an id in its key is not reused while it lives.
        entry = _CACHE[key] = (tuple(field_nodes), columns)
        if len(_CACHE) > _MAX_ENTRIES:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    columns = entry[1]
    return None if columns is None else columns | {sort_column}
