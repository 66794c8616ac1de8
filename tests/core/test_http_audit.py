"""The GraphQL-over-HTTP reference audit (npm `graphql-http`'s auditServer) against a real server.

Needs Node and the audit's npm dependencies: `npm ci --prefix tests/http_audit`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.servers import ROOT, serving

AUDIT_DIR = ROOT / "tests" / "http_audit"
AUDIT_SECONDS = 120


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL")}
    env.update(APP_ENV="test", DATA_DIR=str(data_dir), SEED_DEMO="false", AUTO_MIGRATE="true")
    for key in ("DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    return env


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
    with serving(_server_env(tmp_path / "data"), tmp_path / "server.log", "/health") as host:
        audit = subprocess.run(
            [node, str(AUDIT_DIR / "audit.mjs"), f"http://{host}/graphql"],
            cwd=AUDIT_DIR, capture_output=True, text=True, timeout=AUDIT_SECONDS, check=False,
        )
    assert audit.returncode == 0, f"the audit script failed:\n{audit.stderr}"
    results = json.loads(audit.stdout)
    assert results, "the audit returned no results"
    failing = [r for r in results if r["status"] != "ok"]
    assert not failing, "GraphQL-over-HTTP audits not ok:\n" + "\n".join(
        f"  [{r['status']}] {r['id']} {r['name']}: {r['reason']}" for r in failing
    )
