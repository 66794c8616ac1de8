"""Shared GraphQL object types: Money and the Node interface."""

from __future__ import annotations

from decimal import Decimal

import strawberry


@strawberry.type(description="An amount in a currency; the amount is a decimal string, never a float.")
class Money:
    amount: Decimal
    currency: str


@strawberry.interface(description="An object with a global ID, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID
