"""GraphiQL served from this server: pinned, integrity-checked assets and a CSP-locked page."""

from graphql_api.playground.assets import ASSETS_DIR, AssetError, ensure, fetch, installed
from graphql_api.playground.page import ASSET_ROUTE, Playground

__all__ = ["ASSETS_DIR", "ASSET_ROUTE", "AssetError", "Playground", "ensure", "fetch", "installed"]
