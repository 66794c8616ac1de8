"""The GraphiQL page: our own HTML over locally served assets, under a strict CSP.

When the assets are not installed the page falls back to Strawberry's, which loads GraphiQL from a
public CDN (and so needs internet and no CSP); that is logged once.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from string import Template

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

from graphql_api.playground.assets import ASSETS_DIR, PACKAGES, installed

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
ASSET_ROUTE = "/graphql/assets"
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Every asset URL is versioned (package@version, or a content hash for our own files).
_IMMUTABLE = "public, max-age=31536000, immutable"
# A Host header we can put into the CSP as is: a name or IP literal and an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    integrity: str  # SRI sha384, so the page refuses a file that changed on disk

    @classmethod
    def of(cls, body: bytes, suffix: str) -> Asset:
        digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
        return cls(body, _MEDIA[suffix], f"sha384-{digest}")


def content_security_policy(nonce: str, host: str | None) -> str:
    """Only our own files; the nonce admits the <style> elements GraphiQL's libraries add."""
    connect = ["'self'"]  # same-origin HTTP (and, in CSP3 browsers, same-origin websockets)
    if host and _HOST.fullmatch(host):
        connect += [f"ws://{host}/graphql", f"wss://{host}/graphql"]
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",   # graphiql.min.css inlines a few images
        "font-src 'self' data:",  # and its fonts
        f"connect-src {' '.join(connect)}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ))


class LocalPage:
    """The installed assets in memory (a few MB), keyed by their path under /graphql/assets/."""

    def __init__(self, directory: Path) -> None:
        self.assets: dict[str, Asset] = {}
        self._gzipped: dict[str, bytes] = {}
        scripts: list[str] = []
        styles: list[str] = []
        for package in PACKAGES:
            for name in package.files:
                path = f"{package.folder}/{name}"
                self.assets[path] = Asset.of((directory / path).read_bytes(), Path(name).suffix)
                (styles if name.endswith(".css") else scripts).append(path)
        for own in ("playground.css", "playground.js"):  # ours, after the libraries they use
            body = (HERE / own).read_bytes()
            stem, suffix = own.rsplit(".", 1)
            path = f"{stem}.{hashlib.sha256(body).hexdigest()[:12]}.{suffix}"
            self.assets[path] = Asset.of(body, f".{suffix}")
            (styles if suffix == "css" else scripts).append(path)
        self.scripts, self.styles = scripts, styles
        self.template = Template((HERE / "index.html").read_text())

    def render(self, prefix: str, nonce: str) -> str:
        def attrs(path: str) -> str:
            url = html.escape(f"{prefix}/{path}")
            return f'{"href" if path.endswith(".css") else "src"}="{url}" ' \
                   f'integrity="{self.assets[path].integrity}"'

        return self.template.substitute(
            nonce=nonce,
            stylesheets="\n".join(f'    <link rel="stylesheet" {attrs(p)}>' for p in self.styles),
            scripts="\n".join(f"    <script {attrs(p)}></script>" for p in self.scripts),
        )

    async def gzipped(self, path: str) -> bytes:
        if path not in self._gzipped:  # once per file; off the event loop (GraphiQL is ~1 MB)
            self._gzipped[path] = await run_in_threadpool(
                gzip.compress, self.assets[path].body, 6, mtime=0)
        return self._gzipped[path]


class Playground:
    def __init__(self, directory: Path = ASSETS_DIR) -> None:
        self.directory = directory
        self._local: LocalPage | None = None
        self._fallback: str | None = None
        self._warned = False

    def local(self) -> LocalPage | None:
        """The local page once its assets are installed (checked again until they are)."""
        if self._local is None and installed(self.directory):
            self._local = LocalPage(self.directory)
        return self._local

    def page(self, request: Request) -> Response:
        local = self.local()
        if local is None:
            return self._cdn_page()
        nonce = secrets.token_urlsafe(18)
        prefix = request.scope.get("root_path", "").rstrip("/") + ASSET_ROUTE
        return HTMLResponse(local.render(prefix, nonce), headers={
            "Content-Security-Policy": content_security_policy(nonce, request.headers.get("host")),
            "Cache-Control": "no-store",  # a fresh nonce each time
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        })

    def _cdn_page(self) -> Response:
        if not self._warned:
            self._warned = True
            log.warning("playground: no local assets in %s, so GraphiQL loads from a public CDN "
                        "(blank without internet); run `graphql-api playground-assets`",
                        self.directory)
        if self._fallback is None:
            self._fallback = get_graphql_ide_html("graphiql")
        return HTMLResponse(self._fallback)

    async def asset(self, request: Request) -> Response:
        path: str = request.path_params["path"]
        local = self.local()
        asset = local.assets.get(path) if local is not None else None
        if local is None or asset is None:
            return PlainTextResponse("Not found.", status_code=404)
        headers = {"Cache-Control": _IMMUTABLE, "X-Content-Type-Options": "nosniff",
                   "Vary": "Accept-Encoding"}
        body = asset.body
        if "gzip" in request.headers.get("accept-encoding", ""):
            body = await local.gzipped(path)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)
