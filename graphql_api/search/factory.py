"""Chooses the search backends once, at start-up, from settings."""

from __future__ import annotations

from graphql_api.core.database import Database
from graphql_api.core.settings import Settings
from graphql_api.search.engine import SearchEngine


def create_search_engine(settings: Settings, db: Database) -> SearchEngine:
    from graphql_api.search.database import DatabaseSearch

    database = DatabaseSearch(db)
    if not settings.elasticsearch_url:
        return SearchEngine(database)
    from graphql_api.search.elastic import ElasticsearchSearch

    return SearchEngine(ElasticsearchSearch(settings, db), fallback=database)
