"""The provider port: how one upstream API pages its products and what its items mean.

A provider is a module in `graphql_api/sync/providers/` defining `PROVIDER`; adding a module is
all a new one takes (SYNC_PROVIDER names the module).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any, Protocol

from graphql_api.sync import providers
from graphql_api.sync.records import ParsedPage, ProductData


class Provider(Protocol):
    name: str

    def page_url(self, base_url: str, skip: int, limit: int) -> str:
        """The URL of the page holding items skip .. skip + limit - 1."""

    def parse_page(self, body: Any) -> ParsedPage:
        """A page's decoded JSON as raw items and the total; ValueError when it is not a page."""

    def external_id(self, item: Any) -> str | None:
        """The item's upstream id, when it has a usable one (for error reports and pruning)."""

    def normalise(self, item: Any) -> ProductData:
        """The item as a product record; raises InvalidItem when it cannot be one."""


class UnknownProvider(LookupError):
    pass


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(providers.__path__) if not m.ispkg)


def get_provider(name: str) -> Provider:
    if not _NAME.match(name) or name not in available():
        raise UnknownProvider(f"unknown sync provider {name!r} (available: {', '.join(available())})")
    module = importlib.import_module(f"{providers.__name__}.{name}")
    provider: Provider = module.PROVIDER
    return provider
