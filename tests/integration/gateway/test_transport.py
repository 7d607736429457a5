"""The gateway's keep-alive transport against a real socket server that answers the ways HTTP
servers do: kept-alive connections reused, a body that ends with the connection, an idle
connection the server closed, HEAD, a large body read in pieces."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.gateway.transport import LeanTransport


class Server:
    """A tiny HTTP/1.1 server; ``answers`` maps a path to the raw bytes it writes back (then
    closes when the answer says ``connection: close``)."""

    def __init__(self, answers: dict[bytes, bytes]):
        self.answers = answers
        self.peers: list[int] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.writers.append(writer)
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            path = head.split(b" ", 2)[1]
            self.peers.append(writer.get_extra_info("peername")[1])
            answer = self.answers[path]
            writer.write(answer)
            await writer.drain()
            if b"connection: close" in answer.lower():
                writer.close()
                return

    async def __aenter__(self):
        self.server = await asyncio.start_server(
            lambda r, w: self.handle(r, w), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.server.close()
        for writer in self.writers:
            writer.close()


def ok(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


@pytest.fixture
async def client():
    transport = LeanTransport(4)
    async with httpx.AsyncClient(transport=transport, timeout=5) as c:
        yield c


async def test_a_kept_alive_connection_is_reused(client):
    async with Server({b"/a": ok(b"satu")}) as server:
        for _ in range(3):
            r = await client.get(f"http://127.0.0.1:{server.port}/a")
            assert r.status_code == 200 and r.content == b"satu"
    assert len(server.peers) == 3 and len(set(server.peers)) == 1


async def test_a_body_without_length_ends_with_the_connection(client):
    answer = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nsampai tutup"
    async with Server({b"/a": answer}) as server:
        r = await client.get(f"http://127.0.0.1:{server.port}/a")
    assert r.content == b"sampai tutup"


async def test_an_idle_connection_the_server_closed_is_not_used_again(client):
    async with Server({b"/a": ok(b"satu")}) as server:
        await client.get(f"http://127.0.0.1:{server.port}/a")
        for writer in server.writers:  # the service's keep-alive runs out
            writer.close()
        await asyncio.sleep(0.1)
        r = await client.get(f"http://127.0.0.1:{server.port}/a")
    assert r.content == b"satu" and len(set(server.peers)) == 2


async def test_head_reads_no_body_whatever_the_length_says(client):
    async with Server({b"/a": b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"}) as server:
        r = await client.head(f"http://127.0.0.1:{server.port}/a")
    assert r.status_code == 200 and r.content == b""


async def test_a_large_body_streams_in_pieces_and_whole(client):
    body = bytes(range(256)) * 40_000  # 10 MB
    async with Server({b"/a": ok(body)}) as server:
        async with client.stream("GET", f"http://127.0.0.1:{server.port}/a") as r:
            pieces = [piece async for piece in r.aiter_raw()]
    assert b"".join(pieces) == body and len(pieces) > 1


async def test_a_refused_connection_is_httpx_connect_error(client):
    async with Server({}) as server:
        port = server.port
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{port}/a")
