"""GraphiQL from our own server: the page, its CSP and assets, the CDN fallback, and a real browser.

The browser test drives Debian's chromium over the DevTools protocol (a small client on
`websockets`), with every host but 127.0.0.1 unreachable, so it proves the page needs no internet.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from starlette.applications import Starlette
from starlette.routing import Route

from graphql_api.core.settings import Settings
from graphql_api.http import GraphQLHTTP
from graphql_api.playground import ASSET_ROUTE, Playground, ensure, fetch
from graphql_api.playground.assets import PACKAGES, AssetError, NpmPackage, _verify, installed
from graphql_api.schema import build_schema
from tests.catalog.test_product_admin import CREATE, UPDATE, new_sku

HTML = {"Accept": "text/html,application/xhtml+xml"}
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="session")
def assets() -> None:
    """The pinned assets, as `graphql-api playground-assets` installs them (fetched if missing)."""
    assert ensure(), "could not fetch GraphiQL's assets (see the log)"


def _references(page: str) -> list[str]:
    return re.findall(r'<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"', page)


async def test_the_page_loads_only_local_assets_under_a_csp(client: Any, assets: None) -> None:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, no CDN
    assert "unsafe" not in csp and "http:" not in csp and "https:" not in csp
    assert {"ws://test/graphql", "wss://test/graphql", "'self'"} <= set(
        directives["connect-src"].split())
    nonce = re.search(r'<meta name="style-nonce" content="([^"]+)"', page)
    assert nonce and f"'nonce-{nonce[1]}'" in directives["style-src"]
    assert "<script>" not in page and "<style" not in page and "://" not in page

    references = _references(page)
    assert references.count("data:,") == 1  # an empty icon, so the browser asks for no favicon
    urls = [url for url in references if url != "data:,"]
    assert len(urls) == 7 and all(u.startswith(f"{ASSET_ROUTE}/") for u in urls), urls
    for url in urls:
        asset = await client.get(url, headers={"Accept-Encoding": "identity"})
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
        assert "immutable" in asset.headers["cache-control"]
        integrity = re.search(rf'"{re.escape(url)}" integrity="sha384-([^"]+)"', page)
        assert integrity, url
        assert base64.b64encode(hashlib.sha384(asset.content).digest()).decode() == integrity[1]
    zipped = await client.get(urls[-1], headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    # Only the page's files: not the stamp, not other files of the packages, nothing outside.
    for other in ("manifest.json", "react@18.3.1/umd/react.development.js", "playground.js"):
        assert (await client.get(f"{ASSET_ROUTE}/{other}")).status_code == 404
    assert (await client.get("/graphql", headers=HTML)).headers["content-security-policy"] != csp


async def test_without_local_assets_the_page_falls_back_to_the_cdn(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    http = GraphQLHTTP(build_schema(settings), graphiql=True, max_tokens=2000)
    http.playground = playground = Playground(tmp_path / "absent")
    bare = Starlette(routes=[Route("/graphql", http.endpoint),
                             Route(f"{ASSET_ROUTE}/{{path:path}}", playground.asset)])
    transport = httpx.ASGITransport(app=bare)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        with caplog.at_level(logging.WARNING, logger="graphql_api.playground.page"):
            first = await c.get("/graphql", headers=HTML)
            await c.get("/graphql", headers=HTML)
        assert first.status_code == 200 and "graphiql" in first.text.lower()
        assert "https://unpkg.com/graphiql" in first.text  # Strawberry's page
        assert "content-security-policy" not in first.headers
        warnings = [r.getMessage() for r in caplog.records if "public CDN" in r.getMessage()]
        assert len(warnings) == 1 and "graphql-api playground-assets" in warnings[0]  # once
        assert (await c.get(f"{ASSET_ROUTE}/playground.js")).status_code == 404


@contextlib.contextmanager
def _registry(folder: Path) -> Iterator[str]:
    """A stand-in npm registry: static files over HTTP on a loopback port."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def test_fetch_installs_only_verified_tarballs(tmp_path: Path) -> None:
    tarball = _tarball({"dist/x.min.js": b"window.x = 1;", "dist/x.js": b"unused"})
    (tmp_path / "registry" / "x" / "-").mkdir(parents=True)
    (tmp_path / "registry" / "x" / "-" / "x-1.0.0.tgz").write_bytes(tarball)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    good = (NpmPackage("x", "1.0.0", integrity, ("dist/x.min.js",)),)
    target = tmp_path / "assets"
    with _registry(tmp_path / "registry") as registry:
        fetch(target, registry, good)
        assert installed(target, good)
        assert sorted(p.name for p in target.rglob("*") if p.is_file()) == [
            "manifest.json", "x.min.js"]  # only the listed file
        tampered = (NpmPackage("x", "1.0.0", integrity[:-6] + "AAAA==", ("dist/x.min.js",)),)
        with pytest.raises(AssetError, match="integrity mismatch"):
            fetch(target, registry, tampered)
        missing = (NpmPackage("x", "1.0.0", integrity, ("dist/absent.js",)),)
        with pytest.raises(AssetError, match=r"has no dist/absent\.js"):
            fetch(target, registry, missing)
        with pytest.raises(AssetError, match="could not download"):
            fetch(target, registry, (NpmPackage("y", "1.0.0", integrity, ("a.js",)),))
    assert installed(target, good)  # a failed fetch leaves what worked in place
    assert not installed(target)  # another manifest (a version bump): serve fetches again
    with pytest.raises(AssetError, match="only sha512"):
        _verify(NpmPackage("x", "1.0.0", "sha1-" + integrity[7:]), tarball)
    assert all(p.integrity.startswith("sha512-") and p.files for p in PACKAGES)


# --- a real browser ------------------------------------------------------------------------------

class DevTools:
    """A minimal Chrome DevTools Protocol client: one browser connection, one flattened page."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.session: str | None = None
        self.events: list[dict[str, Any]] = []
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next = 0
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            future = self._pending.pop(message.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(message)
            elif "method" in message:
                self.events.append(message)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        await self.ws.send(json.dumps(message))
        reply = await asyncio.wait_for(future, 20)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply["result"]

    async def eval(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 15) -> Any:
        deadline = asyncio.get_running_loop().time() + seconds
        while not (value := await self.eval(expression)):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            await asyncio.sleep(0.05)
        return value

    async def click(self, selector: str) -> None:
        """A real mouse click at the element's centre."""
        x, y = await self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                            clickCount=1)

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


def _chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return binary


_CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--window-size=1280,900", "--no-first-run", "--no-default-browser-check",
    "--disable-extensions", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
    # No internet for the page: every name but 127.0.0.1 fails, and so does any proxy use.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
    "--remote-debugging-port=0",
)
LAUNCHES = 3  # chromium (not our server) once stayed silent for 15 s at start-up in CI


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _launch(binary: str, tmp_path: Path, attempt: int
                  ) -> tuple[asyncio.subprocess.Process, list[str]] | None:
    """Chromium with a fresh profile, and its DevTools port and path once it has written them;
    None (the process stopped) when it did not within 20 s."""
    profile = tmp_path / f"profile-{attempt}"
    port_file = profile / "DevToolsActivePort"  # chromium writes its port here
    log_path = tmp_path / f"chromium-{attempt}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            binary, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank",
            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(400):
        if port_file.exists() and len(lines := port_file.read_text().split()) == 2:
            return process, lines
        assert process.returncode is None, log_path.read_text()[-3000:]
        await asyncio.sleep(0.05)
    await _stop(process)
    return None


@contextlib.asynccontextmanager
async def _browser(binary: str, tmp_path: Path) -> AsyncIterator[DevTools]:
    for attempt in range(LAUNCHES):
        if (launched := await _launch(binary, tmp_path, attempt)) is not None:
            break
    else:
        logs = [(tmp_path / f"chromium-{n}.log").read_text()[-500:] for n in range(LAUNCHES)]
        raise AssertionError(f"chromium did not open its DevTools port ({LAUNCHES} launches): "
                             f"{logs}")
    process, lines = launched
    try:
        ws = await websockets.connect(f"ws://127.0.0.1:{lines[0]}{lines[1]}", max_size=None)
        devtools = DevTools(ws)
        target = await devtools.call("Target.createTarget", url="about:blank")
        devtools.session = (await devtools.call("Target.attachToTarget",
                                                targetId=target["targetId"],
                                                flatten=True))["sessionId"]
        try:
            yield devtools
        finally:
            await devtools.close()
    finally:
        await _stop(process)


def _editor(selector: str) -> str:
    """The CodeMirror instance of one of GraphiQL's editors."""
    return f"document.querySelector({json.dumps(selector + ' .CodeMirror')}).CodeMirror"


QUERY_EDITOR = ".graphiql-query-editor"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
RESPONSE = _editor(".graphiql-response") + ".getValue()"


async def _type(page: DevTools, editor: str, text: str) -> None:
    """Replaces an editor's text the way a user does: focus, select all, type."""
    await page.click(f"{editor} .CodeMirror")
    await page.eval(f"{_editor(editor)}.focus(); {_editor(editor)}.execCommand('selectAll')")
    await page.call("Input.insertText", text=text)
    assert await page.eval(f"{_editor(editor)}.getValue()") == text
    # GraphiQL parses an edit after a debounce (~100 ms), and picks HTTP or the websocket for an
    # operation from that parse: pause like a user does before running it.
    await asyncio.sleep(0.4)


async def _run(page: DevTools, editor_text: str, expect: str) -> str:
    await _type(page, QUERY_EDITOR, editor_text)
    await page.click(".graphiql-execute-button")
    return str(await page.wait_for(
        f"(() => {{ const v = {RESPONSE}; return v.includes({json.dumps(expect)}) && v; }})()"))


async def test_graphiql_runs_queries_and_subscriptions_offline_in_chromium(
    gql: Any, admin_token: str, live_url: str, assets: None, tmp_path: Path
) -> None:
    binary = _chromium()
    product = (await gql.data(CREATE, {"input": {"sku": new_sku(), "name": "Watched in GraphiQL",
                                                 "price": "5"}}, admin_token))["productCreate"]
    product_id = product["product"]["id"]
    me = await gql.data("{ me { email } }", token=admin_token)

    async with _browser(binary, tmp_path) as page:
        for domain in ("Page", "Network", "Runtime"):
            await page.call(f"{domain}.enable")
        # Injected by the browser, not the page: it sees every CSP violation the page causes.
        await page.call("Page.addScriptToEvaluateOnNewDocument", source=(
            "window.__violations = []; document.addEventListener('securitypolicyviolation', e => "
            "window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"))
        await page.call("Page.navigate", url=f"http://{live_url}/graphql")
        await page.wait_for(f"!!document.querySelector('{QUERY_EDITOR} .CodeMirror')")
        await page.wait_for("!!document.querySelector('.graphiql-execute-button')")

        # The Headers tab's Authorization goes with queries over HTTP...
        await page.click(".graphiql-editor-tools button[data-name=headers]")
        await page.wait_for(f"!!document.querySelector('{HEADERS_EDITOR} .CodeMirror')")
        await _type(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {admin_token}"}))
        result = await _run(page, "{ me { email role } }", me["me"]["email"])
        assert json.loads(result)["data"]["me"] == {"email": me["me"]["email"], "role": "ADMIN"}
        result = await _run(page, f'mutation {{ productUpdate(id: "{product_id}", '
                                  'input: {stock: 7}) { product { stock } userErrors { code } } }',
                            '"stock": 7')
        assert json.loads(result)["data"]["productUpdate"] == {"product": {"stock": 7},
                                                               "userErrors": []}

        # ...and, as connection_init's payload, with subscriptions over graphql-transport-ws.
        await _type(page, QUERY_EDITOR,
                    f'subscription {{ productChanged(id: "{product_id}") {{ id name }} }}')
        await page.click(".graphiql-execute-button")
        received = ""
        for attempt in range(60):  # until the subscription is live and an event arrives
            name = f"Renamed in GraphiQL {attempt}"
            await gql.data(UPDATE, {"id": product_id, "input": {"name": name}}, admin_token)
            await asyncio.sleep(0.1)
            if name in (received := await page.eval(RESPONSE)):
                break
        assert name in received, received
        event = json.loads(received)["data"]["productChanged"]
        assert event == {"id": product_id, "name": name}
        frames = [json.loads(e["params"]["response"]["payloadData"]) for e in page.events
                  if e["method"] == "Network.webSocketFrameSent"]
        assert {"type": "connection_init",
                "payload": {"Authorization": f"Bearer {admin_token}"}} in frames
        assert any(f.get("type") == "subscribe" for f in frames)

        # A bad token in the Headers tab: the websocket refuses the connection, and says so.
        await page.click(".graphiql-execute-button")  # stop the running subscription
        await _type(page, HEADERS_EDITOR, json.dumps({"Authorization": "Bearer forged.token"}))
        await _run(page, f'subscription {{ productChanged(id: "{product_id}") {{ id }} }}', "4403")

        # A dialog: Radix adds a <style> for its scroll lock, which the CSP nonce must admit.
        await page.click(".graphiql-sidebar button[aria-label='Open settings dialog']")
        await page.wait_for("!!document.querySelector('[role=dialog]')")

        # Offline for real: the page asked for nothing outside this server, and broke no CSP rule.
        requested = [e["params"]["request"]["url"] for e in page.events
                     if e["method"] == "Network.requestWillBeSent"]
        assert requested and all(
            url.startswith((f"http://{live_url}/", f"ws://{live_url}/", "data:"))
            for url in requested), requested
        assert await page.eval("window.__violations") == []
        errors = [e["params"] for e in page.events if e["method"] == "Runtime.exceptionThrown"]
        assert errors == [], json.dumps(errors)[:3000]
