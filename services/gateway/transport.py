"""A lean HTTP/1.1 keep-alive transport for httpx: asyncio protocols and httptools' C parser.

The gateway's cost per proxied request was mostly httpcore's (anyio streams, h11's pure-Python
parser, pool bookkeeping per request). This transport keeps what the gateway needs and no more:
a LIFO of idle keep-alive connections per upstream (bounded by ``max_connections``), requests
written as one bytes object, responses parsed by httptools (the parser uvicorn uses), bodies
handed over as they arrive (reading pauses while the reader is behind, so a large export never
piles up in memory). Failures are httpx's own exceptions, so ``Upstreams`` decides them as
before: ``ConnectError``/``ConnectTimeout``, ``ReadTimeout``, ``ReadError``, and
``RemoteProtocolError`` for a connection closed before its answer (a GET is then retried).
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools
import httpx

_PAUSE_AT = 16  # body chunks waiting for the reader before the socket stops being read


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.head: asyncio.Future | None = None
        self.chunks: deque[bytes] = deque()
        self.wakeup: asyncio.Future | None = None
        self.complete = False
        self.keep_alive = False
        self.until_close = False
        self.paused = False
        self.error: Exception | None = None

    # --- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"invalid answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is None and self.until_close and self.head is not None and self.head.done():
            self.complete = True  # a body without length ends where the connection does
            self._wake()
        elif not self.complete:
            self._fail(httpx.ReadError(str(exc)) if exc and self.head and self.head.done()
                       else httpx.RemoteProtocolError("server closed the connection"))

    # --- httptools callbacks ---------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        names = {name.lower() for name, _ in self.headers}
        self.until_close = not names & {b"content-length", b"transfer-encoding"}
        if self.head is not None and not self.head.done():
            self.head.set_result(self.parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        if len(self.chunks) >= _PAUSE_AT and not self.paused and self.transport:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()

    # --- used by the transport -------------------------------------------------------------
    def _wake(self) -> None:
        if self.wakeup is not None and not self.wakeup.done():
            self.wakeup.set_result(None)

    def _fail(self, exc: Exception) -> None:
        self.error = exc
        if self.head is not None and not self.head.done():
            self.head.set_exception(exc)
        self._wake()

    def start(self, data: bytes) -> asyncio.Future:
        self.headers, self.chunks, self.complete, self.keep_alive = [], deque(), False, False
        self.parser = httptools.HttpResponseParser(self)
        self.head = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.head

    async def next_chunk(self, timeout: float | None) -> bytes | None:
        while not self.chunks:
            if self.complete:
                return None
            if self.error is not None:
                raise self.error
            self.wakeup = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self.wakeup
            except TimeoutError:
                raise httpx.ReadTimeout("upstream answer too slow") from None
        if self.paused and len(self.chunks) <= 1:
            self.paused = False
            self.transport.resume_reading()
        return self.chunks.popleft()

    def reusable(self) -> bool:
        return (self.complete and not self.closed and not self.chunks
                and self.keep_alive)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Body(httpx.AsyncByteStream):
    def __init__(self, pool: "LeanTransport", key, conn: _Connection, timeout: float | None):
        self.pool, self.key, self.conn, self.timeout = pool, key, conn, timeout
        self.done = False

    async def __aiter__(self):
        try:
            while True:
                chunk = await self.conn.next_chunk(self.timeout)
                if chunk is None:
                    break
                yield chunk
        finally:  # read to the end, failed or abandoned: the connection slot is given back
            await self.aclose()

    async def aclose(self) -> None:
        if not self.done:
            self.done = True
            self.pool._release(self.key, self.conn)


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, max_connections: int = 100) -> None:
        self.idle: dict[tuple[str, int], list[_Connection]] = {}
        self.slots = asyncio.Semaphore(max_connections)
        self.max_connections = max_connections

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        data = _serialize(request, await request.aread())
        return await self.send_bytes((url.host, url.port or 80), request.method, data,
                                     request.extensions.get("timeout") or {})

    async def send_bytes(self, key: tuple[str, int], method: str, data: bytes,
                         timeouts: dict) -> httpx.Response:
        """Send one serialized request to ``key`` (host, port); the answer's body streams."""
        await self.slots.acquire()
        try:
            conn, status = await self._exchange(key, data, timeouts)
        except BaseException:
            self.slots.release()
            raise
        if method == "HEAD":  # no body follows, whatever content-length says
            conn.complete, conn.closed = True, True
        return httpx.Response(status, headers=conn.headers,
                              stream=_Body(self, key, conn, timeouts.get("read")),
                              extensions={"http_version": b"HTTP/1.1"})

    async def _exchange(self, key, data: bytes, timeouts: dict) -> tuple[_Connection, int]:
        """Send on an idle connection (or a new one) and wait for the answer's head. An idle
        connection the service closed meanwhile (its keep-alive ran out) received nothing:
        the request is sent once more on a new connection."""
        for attempt in (1, 2):
            conn, reused = await self._connection(key, timeouts.get("connect"))
            try:
                async with asyncio.timeout(timeouts.get("read")):
                    return conn, await conn.start(data)
            except TimeoutError:
                conn.close()
                raise httpx.ReadTimeout("upstream answer too slow") from None
            except httpx.RemoteProtocolError:
                conn.close()
                if not (reused and attempt == 1 and not conn.headers):
                    raise
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    async def _connection(self, key, connect_timeout: float | None
                          ) -> tuple[_Connection, bool]:
        idle = self.idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn, True
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                _, conn = await loop.create_connection(_Connection, key[0], key[1])
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connect to {key[0]}:{key[1]} timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from None
        return conn, False

    def _release(self, key, conn: _Connection) -> None:
        if conn.reusable():
            self.idle.setdefault(key, []).append(conn)
        else:
            conn.close()
        self.slots.release()

    async def aclose(self) -> None:
        for conns in self.idle.values():
            for conn in conns:
                conn.close()
        self.idle.clear()


def _serialize(request: httpx.Request, body: bytes) -> bytes:
    return serialize(request.method, request.url.raw_path, request.headers.raw, body)


def serialize(method: str, target: bytes, headers, body: bytes) -> bytes:
    """One HTTP/1.1 request as bytes (``headers``: (name, value) byte pairs, Host included)."""
    lines = [b"%s %s HTTP/1.1" % (method.encode(), target)]
    lines += [b"%s: %s" % (k, v) for k, v in headers
              if k.lower() not in (b"transfer-encoding", b"content-length")]
    if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
        lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
