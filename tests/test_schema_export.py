"""schema.graphql is the exported SDL and must match the code."""

from __future__ import annotations

from pathlib import Path

from graphql_api.cli import export_schema_text
from graphql_api.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_schema_file_is_in_sync(tmp_path: Path) -> None:
    current = export_schema_text(Settings(data_dir=tmp_path))
    on_disk = (ROOT / "schema.graphql").read_text()
    assert on_disk == current, "schema.graphql is stale: run `graphql-api export-schema`"


def test_contract_names_exist() -> None:
    sdl = (ROOT / "schema.graphql").read_text()
    for name in ["node(id: ID!)", "products(", "categories:", "category(slug", "me:", "users(",
                 "productCreate(", "productUpdate(", "productDelete(", "accountRegister(",
                 "tokenCreate(", "tokenRefresh(", "tokenRevoke(", "userRoleUpdate(",
                 "input ProductFilter", "input ProductSort", "type Money", "userErrors:"]:
        assert name in sdl, name
