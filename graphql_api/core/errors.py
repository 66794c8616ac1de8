"""Errors shared by every domain: GraphQL errors with `extensions.code`, and mutation user errors."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError


@strawberry.enum(description="Machine-readable reason of a user error.")
class ErrorCode(Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"  # noqa: S105 (a code, not a secret)
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105
    FORBIDDEN = "FORBIDDEN"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    CART_EMPTY = "CART_EMPTY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"  # a concurrent change won: read again and retry


@strawberry.type(description="An expected failure of a mutation, tied to the input field at fault.")
class UserError:
    field: list[str] | None
    code: ErrorCode
    message: str


class UserInputError(Exception):
    """Raised by services for an expected failure; mutations turn it into `userErrors`."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field: str | None, code: ErrorCode, message: str) -> UserInputError:
        return cls([UserError(field=[field] if field else None, code=code, message=message)])


class ApiError(GraphQLError):
    """A GraphQL error that is meant for the client, with a stable `extensions.code`."""

    code = "INTERNAL_SERVER_ERROR"
    default_message = "Internal server error."

    def __init__(self, message: str | None = None, **extensions: Any) -> None:
        super().__init__(message or self.default_message, extensions={"code": self.code, **extensions})


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"
    default_message = "Authentication required."


class Forbidden(ApiError):
    code = "FORBIDDEN"
    default_message = "You are not allowed to do this."


class NotFound(ApiError):
    code = "NOT_FOUND"
    default_message = "Not found."


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"
    default_message = "Invalid input."


class QueryTooComplex(ApiError):
    code = "QUERY_TOO_COMPLEX"
    default_message = "Query is too complex."


class RateLimited(ApiError):
    code = "RATE_LIMITED"
    default_message = "Too many requests."
