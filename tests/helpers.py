"""Small helpers shared by the test suites."""

from __future__ import annotations

import asyncio
import time
import os
from typing import Any, Awaitable, Callable

import httpx
import requests

from shared.auth import PRINCIPAL_HEADER, PROOF_HEADER
from shared.contracts import DeadLetterV1, Envelope
from shared.signing import ServiceAuth, SigningKey, principal_proof, signed_headers


def signing_key(service: str = "gateway") -> SigningKey:
    """The test run's key of ``service`` (tests/conftest.py makes one per service)."""
    return SigningKey.load(service, os.environ[f"{service.upper()}_SIGNING_KEY"])


class _AsGateway(ServiceAuth):
    """Signs as the gateway does: with its proof of the principal, which a service that acts
    for the same user within the request forwards (ingest asking the registry)."""

    def auth_flow(self, request: httpx.Request):
        principal = request.headers.get(PRINCIPAL_HEADER)
        if principal and self.key.service == "gateway":
            request.headers[PROOF_HEADER] = principal_proof(self.key, principal)
        yield from super().auth_flow(request)


def signed(service: str = "gateway") -> httpx.Auth:
    """httpx auth signing a test's direct call to a service, as the calling service would
    (the gateway by default: only its calls may carry a user's principal)."""
    return _AsGateway(signing_key(service))


class SignedRequests(requests.auth.AuthBase):
    """The same for a ``requests`` session (ckanapi talks to ingest directly in tests)."""

    def __call__(self, r):
        body = r.body or b""
        body = body.encode() if isinstance(body, str) else body
        principal = r.headers.get(PRINCIPAL_HEADER, "")
        proof = principal_proof(signing_key(), principal) if principal else ""
        if proof:
            r.headers[PROOF_HEADER] = proof
        r.headers.update(signed_headers(signing_key(), r.method, r.path_url, body, principal,
                                        proof))
        return r


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0,
                     interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns a truthy value without raising; return that value."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = await check()
            if result:
                return result
            last_error = None
        except AssertionError as exc:
            last_error = exc
        if time.monotonic() > deadline:
            if last_error:
                raise last_error
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def drained(js, stream: str, durable: str) -> bool:
    """For ``eventually``: the durable consumer has been handed every message of its stream
    and acknowledged each one (what it will ever do with them is done: an absence can now be
    asserted instead of slept on)."""
    info = await js.consumer_info(stream, durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def dead_letters(js, ns) -> list[DeadLetterV1]:
    """Every letter kept in the DEADLETTER stream of namespace ``ns`` (a ``bus.Namespace``),
    oldest first."""
    info = await js.stream_info(ns.stream("DEADLETTER"))
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        msg = await js.get_msg(ns.stream("DEADLETTER"), seq)
        out.append(Envelope.model_validate_json(msg.data).open(DeadLetterV1))
    return out


class served:
    """Serve an ASGI app with a real uvicorn server on a free port, inside this event loop.

    ``async with served(app) as base_url:`` runs the app's lifespan (its pool, NATS connection,
    consumers) exactly as in production, and real HTTP reaches it.
    """

    def __init__(self, app, host: str = "127.0.0.1"):
        import uvicorn

        from shared.infra import free_port

        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                lifespan="on", access_log=False)
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # noqa: E731 - not the main thread's job
        self.task = None

    async def __aenter__(self) -> str:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.02)
        return self.url

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await self.task


def dataset_payload(slug: str, **overrides: Any) -> dict[str, Any]:
    """A valid dataset definition (the Satu Data Indonesia metadata every dataset needs),
    with ``overrides`` replacing top-level fields or, under ``metadata``, merged keys."""
    payload: dict[str, Any] = {
        "slug": slug, "title": f"Dataset uji {slug}", "frequency": "annual",
        "metadata": {"produsen_data": "Dinas uji", "walidata": "Diskominfo Kutai Timur",
                     "konsep": "Konsep uji", "definisi": "Definisi uji", "satuan": "unit"},
        "schema": {"measures": [{"name": "jumlah", "label": "Jumlah", "additive": True}]},
    }
    metadata = overrides.pop("metadata", None)
    payload.update(overrides)
    if metadata is not None:
        payload["metadata"] = {**payload["metadata"], **metadata}
    return payload
