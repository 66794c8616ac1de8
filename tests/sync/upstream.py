"""A real HTTP server playing the upstream product API, in DummyJSON's format, with switches for
every way an upstream misbehaves. A small asyncio HTTP/1.1 server of its own, so a connection
reset is a real TCP reset (SO_LINGER 0), not an error page."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.servers import free_port


def product(i: int, prefix: str) -> dict[str, Any]:
    """Upstream product `i`: deterministic, with DummyJSON's fields (and its optional ones)."""
    item: dict[str, Any] = {
        "id": i,
        "title": f"{prefix} item {i}",
        "description": f"Generated upstream product number {i}.",
        "category": ["smartphones", "laptops", "home-decoration", "groceries"][i % 4],
        "price": round(5 + (i * 7.31) % 500, 2),
        "discountPercentage": round((i * 3.7) % 30, 2),
        "rating": round((i * 0.37) % 5, 2),
        "stock": (i * 13) % 150,
        "tags": ["generated", f"group-{i % 10}"],
        "sku": f"{prefix}-{i:06d}",
        "images": [f"https://cdn.example.com/{prefix}/{i}/1.jpg"],
        "thumbnail": f"https://cdn.example.com/{prefix}/{i}/thumb.jpg",
        "weight": 3,
        "meta": {"barcode": str(1000000 + i)},
    }
    if i % 3:
        item["brand"] = f"Brand {i % 17}"  # optional upstream, like DummyJSON's groceries
    return item


@dataclass
class Upstream:
    prefix: str
    products: list[dict[str, Any]] = field(default_factory=list)
    etags: bool = True
    # Switches: each answer of these kinds is consumed by the next requests.
    rate_limit_next: int = 0
    retry_after: str = "1"
    fail_next: int = 0  # 503s
    slow_next: int = 0
    slow_seconds: float = 2.0
    reset_next: int = 0
    reset_from_skip: int | None = None  # reset every request for pages at or after this skip
    delay_seconds: float = 0.0  # every answer (a slow but healthy upstream)
    # Pages at or after this skip wait for `release` (a run held in the middle, however fast).
    hold_from_skip: int | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    requests: Counter[str] = field(default_factory=Counter)  # by outcome
    host: str = "127.0.0.1"
    port: int = 0
    _server: asyncio.Server | None = None

    @classmethod
    def generated(cls, prefix: str, count: int) -> Upstream:
        return cls(prefix=prefix, products=[product(i, prefix) for i in range(1, count + 1)])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def item(self, external_id: int) -> dict[str, Any]:
        return next(p for p in self.products if p["id"] == external_id)

    def remove(self, *external_ids: int) -> None:
        self.products = [p for p in self.products if p["id"] not in external_ids]

    async def start(self) -> Upstream:
        self.port = free_port()
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def page(self, skip: int, limit: int) -> dict[str, Any]:
        return {"products": self.products[skip:skip + limit], "total": len(self.products),
                "skip": skip, "limit": limit}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, target, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                if not await self._answer(target, headers, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _reset(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def _answer(self, target: str, headers: dict[str, str], writer: asyncio.StreamWriter
                      ) -> bool:
        """Writes one response; False when the connection is gone."""
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        skip, limit = int(query.get("skip", 0)), int(query.get("limit", 30))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if self.hold_from_skip is not None and skip >= self.hold_from_skip:
            await self.release.wait()
        if self.reset_next > 0 or (self.reset_from_skip is not None and skip >= self.reset_from_skip):
            self.reset_next = max(0, self.reset_next - 1)
            self.requests["reset"] += 1
            self._reset(writer)
            return False
        if self.slow_next > 0:
            self.slow_next -= 1
            self.requests["slow"] += 1
            await asyncio.sleep(self.slow_seconds)
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            self.requests["429"] += 1
            return await self._write(writer, 429, b'{"message":"slow down"}',
                                     {"Retry-After": self.retry_after})
        if self.fail_next > 0:
            self.fail_next -= 1
            self.requests["503"] += 1
            return await self._write(writer, 503, b'{"message":"busy"}')
        if url.path != "/products":
            self.requests["404"] += 1
            return await self._write(writer, 404, b'{"message":"not found"}')
        body = json.dumps(self.page(skip, limit)).encode()
        extra: dict[str, str] = {}
        if self.etags:
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            extra["ETag"] = etag
            if headers.get("if-none-match") == etag:
                self.requests["304"] += 1
                return await self._write(writer, 304, b"", extra)
        self.requests["200"] += 1
        return await self._write(writer, 200, body, extra)

    async def _write(self, writer: asyncio.StreamWriter, status: int, body: bytes,
                     headers: dict[str, str] | None = None) -> bool:
        reason = {200: "OK", 304: "Not Modified", 404: "Not Found", 429: "Too Many Requests",
                  503: "Service Unavailable"}[status]
        lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json"]
        if status != 304:
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            await writer.drain()
        except ConnectionError:
            return False
        return True
