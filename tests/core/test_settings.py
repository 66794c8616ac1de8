"""Secrets come from the environment; production refuses to start without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphql_api.cli import main
from graphql_api.core.settings import ConfigurationError, Settings


def test_production_needs_a_jwt_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        Settings(app_env="production", data_dir=tmp_path, jwt_secret=None)
    with pytest.raises(ConfigurationError):
        Settings(app_env="production", data_dir=tmp_path, jwt_secret="short")
    Settings(app_env="production", data_dir=tmp_path, jwt_secret="x" * 40)


def test_cli_refuses_production_without_secret(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from graphql_api.core.settings import get_settings

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["migrate"]) == 2
    finally:
        get_settings.cache_clear()
    assert "JWT_SECRET" in capsys.readouterr().err


def test_embedded_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).signing_secret()
    second = Settings(data_dir=tmp_path).signing_secret()
    assert first == second and len(first) >= 48
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0


def test_production_turns_off_introspection_and_graphiql(tmp_path: Path) -> None:
    prod = Settings(app_env="production", data_dir=tmp_path, jwt_secret="y" * 40)
    assert not prod.introspection_enabled and not prod.graphiql_enabled
    dev = Settings(data_dir=tmp_path)
    assert dev.introspection_enabled and dev.graphiql_enabled
