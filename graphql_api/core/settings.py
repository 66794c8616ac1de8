"""Settings from the environment (and `.env`), with embedded defaults that need nothing installed."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or incomplete."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path(".data")

    database_url: str | None = None
    redis_url: str | None = None
    elasticsearch_url: str | None = None
    # The alias searches use; versioned indexes behind it are named `<alias>-<timestamp>`.
    elasticsearch_index: str = "products"

    jwt_secret: str | None = Field(default=None, repr=False)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "graphql-api"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 30 * 24 * 3600

    # Query hardening: generous for real clients, fatal for abuse.
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_page_size: int = 100
    introspection: bool | None = None  # None: on outside production
    graphiql: bool | None = None

    # Origins whose pages may call the API (CORS) and open its websocket (same-origin always may).
    allowed_origins: list[str] = Field(default_factory=list)
    # Sign-in and registration attempts per window (password hashing is deliberately slow).
    login_attempts_per_email: int = 10
    login_attempts_per_client: int = 100
    login_window_seconds: int = 300
    cache_enabled: bool = True
    cache_ttl_seconds: int = 300
    # Cache warming: every this many minutes (0: only after writes and syncs), filling the
    # product detail of this many of the most viewed products besides categories and pages.
    cache_warm_interval_minutes: float = Field(default=5, ge=0)
    cache_warm_products: int = Field(default=20, ge=0)
    # And this long after a catalog write (a burst of writes, a sync, warms once, after it).
    cache_warm_after_writes: bool = True
    cache_warm_delay_seconds: float = Field(default=2, ge=0)
    auto_migrate: bool | None = None  # None: on for the embedded SQLite database
    seed_demo: bool | None = None
    db_pool_size: int = 10
    log_level: str = "INFO"
    # Testing: execute every operation by graphql-core's reference path and by the fast path
    # and fail on any difference (core/execution_diff.py). Off in production: it doubles the
    # execution's CPU.
    graphql_exec_diff: bool = False
    # Websockets: how long a client may take to send connection_init (then close 4408), and how
    # many operations one connection may run at once (one more is refused with RATE_LIMITED).
    ws_init_timeout_seconds: float = Field(default=10, gt=0)
    ws_max_operations: int = Field(default=32, ge=1)
    # Catalog sync (graphql_api/sync): off until SYNC_SOURCE_URL is set.
    sync_provider: str = "dummyjson"
    sync_source_url: str | None = None
    sync_interval_minutes: int = Field(default=30, ge=1)  # the workers' cron
    sync_page_size: int = Field(default=100, ge=1, le=1000)
    sync_concurrency: int = Field(default=4, ge=1, le=32)  # upstream requests at once
    sync_timeout_seconds: float = Field(default=10, gt=0)  # per request
    sync_attempts: int = Field(default=5, ge=1)  # per page, with exponential backoff between
    # A RUNNING run whose process has not beaten its heart for this long is taken for dead.
    sync_stale_seconds: float = Field(default=120, gt=0)

    # Event tracking (graphql_api/tracking): eventTrack calls per client and window; the
    # in-process buffer (a full buffer refuses eventTrack with RATE_LIMITED) and its flushes
    # (one multi-row INSERT per batch, at most this often); the Redis stream's approximate cap.
    events_per_client: int = Field(default=1200, ge=1)
    events_window_seconds: int = Field(default=60, ge=1)
    events_buffer_size: int = Field(default=50_000, ge=1)
    events_batch_size: int = Field(default=1000, ge=1, le=5000)
    events_flush_interval_ms: float = Field(default=100, gt=0)
    events_stream_maxlen: int = Field(default=1_000_000, ge=1)

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.is_production and not self.jwt_secret:
            raise ConfigurationError("JWT_SECRET must be set when APP_ENV=production")
        if self.jwt_secret is not None and len(self.jwt_secret) < 32:
            raise ConfigurationError("JWT_SECRET must be at least 32 characters")
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'graphql_api.db').resolve()}"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def should_auto_migrate(self) -> bool:
        return self.auto_migrate if self.auto_migrate is not None else self.embedded_database

    @property
    def should_seed_demo(self) -> bool:
        return self.seed_demo if self.seed_demo is not None else self.embedded_database

    def signing_secret(self) -> str:
        """The JWT secret; the embedded default generates one and keeps it in the data folder."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        # O_EXCL so two processes starting together agree on one secret.
        try:
            with path.open("x") as fh:
                fh.write(secret)
            path.chmod(0o600)
        except FileExistsError:
            return path.read_text().strip()
        return secret


@lru_cache
def get_settings() -> Settings:
    return Settings()
