"""Opaque Relay global IDs: base64 of `Type:pk`."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from graphql_api.core.errors import BadUserInput

MAX_PK = 2**31 - 1  # the tables' keys are INTEGER: a larger one would overflow the bind


# A page makes one per node and per nested object (its category's, for one), the same ones request
# after request: the encoding was ~4% of a listing's CPU.
@lru_cache(maxsize=16384)
def to_global_id(type_name: str, pk: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, str]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(f"Invalid ID {global_id!r}.") from None
    if not type_name or not pk:
        raise BadUserInput(f"Invalid ID {global_id!r}.")
    return type_name, pk


def decode_pk(global_id: str, expected_type: str) -> int | None:
    """The integer key of an ID of `expected_type`; None when the ID names another type."""
    type_name, pk = from_global_id(global_id)
    if type_name != expected_type:
        return None
    if not pk.isdigit() or int(pk) > MAX_PK:
        raise BadUserInput(f"Invalid ID {global_id!r}.")
    return int(pk)
