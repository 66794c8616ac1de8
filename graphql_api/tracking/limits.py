"""What eventTrack accepts: bounded metadata, bounded text, ids that exist."""

from __future__ import annotations

import json
from typing import Any

from graphql_api.core.errors import ErrorCode, UserError
from graphql_api.tracking.models import MAX_PATH_CHARS, MAX_QUERY_CHARS

MAX_METADATA_BYTES = 2048  # serialised as compact UTF-8 JSON
MAX_METADATA_DEPTH = 4  # {"a": {"b": {"c": {"d": 1}}}}: the top object is level 1


def error(field: str, code: ErrorCode, message: str) -> UserError:
    return UserError(field=[field], code=code, message=message)


def depth(value: Any) -> int:
    """How deeply objects and arrays nest in `value` (0 for a scalar); iterative, so any depth
    the JSON parser let through is measured without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(
            node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_metadata(metadata: Any) -> UserError | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return error("metadata", ErrorCode.INVALID, "`metadata` must be a JSON object.")
    # Depth before size: measuring depth is cheap, and serialising a deep value recurses.
    if depth(metadata) > MAX_METADATA_DEPTH:
        return error("metadata", ErrorCode.INVALID,
                     f"`metadata` nests at most {MAX_METADATA_DEPTH} levels deep.")
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(text.encode("utf-8"))  # a lone surrogate fails here
    except (ValueError, TypeError):
        return error("metadata", ErrorCode.INVALID, "`metadata` must be plain JSON text.")
    if "\\u0000" in text:  # PostgreSQL cannot store NUL in JSON (nor in text)
        return error("metadata", ErrorCode.INVALID, "`metadata` must not contain NUL characters.")
    if size > MAX_METADATA_BYTES:
        return error("metadata", ErrorCode.TOO_LONG,
                     f"`metadata` is at most {MAX_METADATA_BYTES} bytes as JSON.")
    return None


def check_text(field: str, value: str | None, limit: int) -> UserError | None:
    if value is None:
        return None
    if len(value) > limit:
        return error(field, ErrorCode.TOO_LONG, f"`{field}` is at most {limit} characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return error(field, ErrorCode.INVALID, f"`{field}` must be valid text.")
    if "\x00" in value:
        return error(field, ErrorCode.INVALID, f"`{field}` must not contain NUL characters.")
    return None


def check_query(query: str | None) -> UserError | None:
    return check_text("query", query, MAX_QUERY_CHARS)


def check_path(path: str | None) -> UserError | None:
    return check_text("path", path, MAX_PATH_CHARS)
