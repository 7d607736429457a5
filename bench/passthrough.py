"""The reference the gateway's CPU per proxied request is measured beside (bench_gateway.py):

* ``stub``: an upstream that answers every GET with the bytes of one real search answer
  (``PASSTHROUGH_BODY`` names the file), so the pass-through moves the same payload;
* ``proxy``: a bare pass-through, served by uvicorn with the gateway's own flags and forwarding
  with the gateway's own upstream transport (``services.gateway.transport.LeanTransport``), and
  nothing else: no key, rate limit, signing, ETag, compression, metrics or logging.

    uvicorn bench.passthrough:stub --factory ...   (PASSTHROUGH_BODY=<file>)
    uvicorn bench.passthrough:proxy --factory ...  (PASSTHROUGH_UPSTREAM=http://127.0.0.1:<port>)
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from services.gateway.transport import LeanTransport


def stub():
    body = Path(os.environ["PASSTHROUGH_BODY"]).read_bytes()
    head = [(b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode())]

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": body})
    return app


def proxy():
    upstream = os.environ["PASSTHROUGH_UPSTREAM"]
    client = httpx.AsyncClient(base_url=upstream, transport=LeanTransport(100), timeout=30)
    dropped = {b"host", b"connection", b"transfer-encoding"}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"] + (("?" + scope["query_string"].decode())
                                if scope["query_string"] else "")
        request = client.build_request(scope["method"], path, content=body or None, headers=[
            (k, v) for k, v in scope["headers"] if k not in dropped])
        answer = await client.send(request, stream=True)
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": [(k, v) for k, v in answer.headers.raw
                                if k.lower() not in dropped]})
        async for chunk in answer.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await answer.aclose()
        await send({"type": "http.response.body", "body": b""})
    return app
