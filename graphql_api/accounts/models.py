"""Account tables: users and refresh tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel

from graphql_api.core.models import TimestampType, utcnow


class Role(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"

    @property
    def is_admin(self) -> bool:
        return self in (Role.ADMIN, Role.SUPER_ADMIN)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    role: str = Field(default=Role.CUSTOMER.value, sa_column=Column(String(20), nullable=False))
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    # Set by accountDelete: the account is inactive for good and its personal data is gone;
    # the row stays so that orders keep their customer.
    deleted_at: datetime | None = Field(default=None, sa_type=TimestampType, nullable=True)


class RefreshToken(SQLModel, table=True):
    """One issued refresh token, stored by hash. Rotation chains tokens into a family."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    family: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=TimestampType)
    expires_at: datetime = Field(sa_type=TimestampType)
    revoked_at: datetime | None = Field(default=None, sa_type=TimestampType, nullable=True)
