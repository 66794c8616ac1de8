"""The playground's third-party files: pinned npm tarballs, verified, unpacked into `assets/`.

They are fetched (by `graphql-api playground-assets`, or by `serve` on first start), never committed.
A tarball is accepted only when its SHA-512 matches the `integrity` npm published for that exact
version, so a mirror or proxy cannot swap the code the browser runs.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
STAMP = "manifest.json"
DEFAULT_REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str  # the registry's `dist.integrity` for this version (sha512 of the tarball)
    files: tuple[str, ...] = field(default=())  # paths inside the tarball's package/ folder

    @property
    def folder(self) -> str:
        """Where its files live, on disk and under /graphql/assets/: versioned, so cacheable forever."""
        return f"{self.name.replace('/', '__')}@{self.version}"

    def tarball_url(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


# GraphiQL 4 is the newest major that still ships a self-contained UMD build (graphiql.min.js,
# with @graphiql/react, the toolkit and graphql inside; React and ReactDOM as globals): it runs
# from plain <script> tags. GraphiQL 5 is ESM-only on Monaco, which needs a bundler or import maps
# plus web workers. React 18 is the last React with UMD builds. graphql-ws is not inside
# GraphiQL's bundle; its own UMD build (global `graphqlWs`) supplies the websocket client.
PACKAGES: tuple[NpmPackage, ...] = (
    NpmPackage("react", "18.3.1",
               "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
               ("umd/react.production.min.js",)),
    NpmPackage("react-dom", "18.3.1",
               "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
               ("umd/react-dom.production.min.js",)),
    NpmPackage("graphql-ws", "6.4.2",
               "sha512-wxhPhhOGJo8PbGDkBYVE76sZLDrS+GkyrR4bZECSLVbo0pZZNKs0HtBh2Ip/uaUuiVUxwO9ssI9R92buQfNSqQ==",
               ("umd/graphql-ws.min.js",)),
    NpmPackage("graphiql", "4.1.2",
               "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
               ("graphiql.min.css", "graphiql.min.js")),
)


class AssetError(RuntimeError):
    """A tarball could not be fetched, failed its integrity check, or lacked a file."""


def expected_paths(packages: tuple[NpmPackage, ...] = PACKAGES) -> list[str]:
    """The files the page needs, as paths relative to the assets folder (and to /graphql/assets/)."""
    return [f"{p.folder}/{name}" for p in packages for name in p.files]


def installed(directory: Path = ASSETS_DIR, packages: tuple[NpmPackage, ...] = PACKAGES) -> bool:
    """Whether `directory` holds exactly this manifest's files (a version bump means refetch)."""
    try:
        stamp = json.loads((directory / STAMP).read_text())
    except (OSError, ValueError):
        return False
    wanted = expected_paths(packages)
    return stamp == {"files": wanted} and all((directory / path).is_file() for path in wanted)


def _verify(package: NpmPackage, data: bytes) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    if algorithm != "sha512":
        raise AssetError(f"{package.name}@{package.version}: only sha512 integrity is accepted")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise AssetError(f"{package.name}@{package.version}: tarball integrity mismatch "
                         f"(expected sha512-{expected}, got sha512-{actual})")


def _unpack(package: NpmPackage, data: bytes, target: Path) -> None:
    """Copies only the listed files out of the tarball (never extracts it: no path tricks)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        # npm tarballs hold one top folder (almost always `package/`): index members without it.
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        for name in package.files:
            member = members.get(name)
            source = tar.extractfile(member) if member is not None else None
            if source is None:
                raise AssetError(f"{package.name}@{package.version} has no {name}")
            destination = target / package.folder / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read())


def fetch(directory: Path = ASSETS_DIR, registry: str | None = None,
          packages: tuple[NpmPackage, ...] = PACKAGES, timeout: float = 60.0) -> None:
    """Downloads, verifies and installs the assets; replaces `directory` only once all succeeded."""
    registry = registry or os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        # A short connect timeout: offline, `serve` should fall back to the CDN page quickly.
        with httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0),
                          follow_redirects=True) as client:
            for package in packages:
                url = package.tarball_url(registry)
                try:
                    response = client.get(url)
                    response.raise_for_status()
                except httpx.HTTPError as exc:
                    raise AssetError(f"could not download {url}: {exc}") from exc
                _verify(package, response.content)
                _unpack(package, response.content, staging)
                log.info("playground: %s@%s verified", package.name, package.version)
        (staging / STAMP).write_text(json.dumps({"files": expected_paths(packages)}))
        _swap(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap(staging: Path, directory: Path) -> None:
    """Moves the new folder into place; the old one (an earlier version) goes away after."""
    old = directory.with_name(f".{directory.name}-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    try:
        staging.rename(directory)
    except OSError:
        if old.exists() and not directory.exists():
            old.rename(directory)  # keep what worked before
        raise
    shutil.rmtree(old, ignore_errors=True)


def ensure(directory: Path = ASSETS_DIR, registry: str | None = None) -> bool:
    """Fetches the assets when they are missing or stale; False (and a warning) when that fails."""
    if installed(directory):
        return True
    log.info("playground: fetching GraphiQL's assets into %s", directory)
    try:
        fetch(directory, registry)
    except (AssetError, OSError) as exc:
        log.warning("playground: %s; GraphiQL will load its scripts from a CDN instead "
                    "(run `graphql-api playground-assets` to retry)", exc)
        return False
    return True
