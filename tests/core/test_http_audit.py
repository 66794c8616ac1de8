"""The GraphQL-over-HTTP reference audit (npm `graphql-http`'s auditServer) against a real server.

Needs Node and the audit's npm dependencies: `npm ci --prefix tests/http_audit`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
AUDIT_DIR = ROOT / "tests" / "http_audit"
STARTUP_SECONDS = 60
AUDIT_SECONDS = 120


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(APP_ENV="test", DATA_DIR=str(data_dir), SEED_DEMO="false", AUTO_MIGRATE="true")
    for key in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    return env


def _wait_for_health(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}:\n"
                                 f"{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer /health within {STARTUP_SECONDS}s:\n"
                         f"{log.read_text()[-4000:]}")


def test_graphql_over_http_audit(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the GraphQL-over-HTTP audit (tests/http_audit)."
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        # The lock file pins the audit; installing it here keeps `pytest` a one-command run.
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the audit (tests/http_audit)."
        installed = subprocess.run([npm, "ci", "--prefix", str(AUDIT_DIR), "--no-audit",
                                    "--no-fund"], capture_output=True, text=True, timeout=600,
                                   check=False)
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stderr[-3000:]}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "graphql_api", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=ROOT, env=_server_env(tmp_path / "data"), stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_health(server, base, log)
        audit = subprocess.run(
            [node, str(AUDIT_DIR / "audit.mjs"), f"{base}/graphql"],
            cwd=AUDIT_DIR, capture_output=True, text=True, timeout=AUDIT_SECONDS, check=False,
        )
        assert audit.returncode == 0, f"the audit script failed:\n{audit.stderr}"
        results = json.loads(audit.stdout)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert results, "the audit returned no results"
    failing = [r for r in results if r["status"] != "ok"]
    assert not failing, "GraphQL-over-HTTP audits not ok:\n" + "\n".join(
        f"  [{r['status']}] {r['id']} {r['name']}: {r['reason']}" for r in failing
    )
