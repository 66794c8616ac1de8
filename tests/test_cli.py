"""The command line, as a user runs it: migrate, seed (idempotent), create-admin, serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphql_api", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(DATA_DIR=str(tmp_path), LOG_LEVEL="WARNING")
    return env


def test_migrate_seed_and_create_admin(tmp_path: Path) -> None:
    env = embedded_env(tmp_path)
    assert run_cli("migrate", env=env).returncode == 0
    first = run_cli("seed", "--products", "120", env=env)
    assert first.returncode == 0, first.stderr
    assert "products created: 120" in first.stdout
    again = run_cli("seed", "--products", "120", env=env)
    assert "categories created: 0, products created: 0" in again.stdout
    weak = run_cli("create-admin", "--email", "boss@example.com", "--password", "short", env=env)
    assert weak.returncode == 1 and "Password must have" in weak.stderr
    ok = run_cli("create-admin", "--email", "boss@example.com", "--password",
                 "a-Long-enough-9", "--role", "super_admin", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "boss@example.com is now SUPER_ADMIN" in ok.stdout


def test_first_serve_on_a_bare_folder_has_the_demo_catalog(tmp_path: Path) -> None:
    """README's first command: nothing configured, an empty data folder, a working shop."""
    env = embedded_env(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "graphql_api", "serve", "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.3)
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", json={
            "query": "{ products(first: 1) { totalCount } categories { slug } }"}).json()
        assert body["data"]["products"]["totalCount"] >= 1000
        assert len(body["data"]["categories"]) >= 20
        assert (tmp_path / "jwt_secret").exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
