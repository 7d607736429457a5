"""Pooled HTTP clients to the services, with the gateway's failure rules.

* a connection refused or reset is ``503``, a timeout ``504``, an upstream 5xx ``502``
  (``503``/``504`` kept), each in the one error shape; 4xx bodies pass through unchanged;
* only idempotent GETs are retried (connection errors and upstream 502/503), a few times
  with a short backoff;
* ``X-Request-ID`` goes with every call.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json as _json
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from services.gateway.settings import GatewaySettings
from services.gateway.transport import LeanTransport, serialize
from shared.auth import PRINCIPAL_HEADER
from shared.errors import ServiceUnavailable, UpstreamError, UpstreamTimeout
from shared.signing import (PROOF_HEADER, REFUSED_HEADER, ServiceAuth, principal_proof,
                            signed_headers)
from shared.logging import REQUEST_ID_HEADER, request_id_var

log = logging.getLogger("satudata.gateway.upstream")

SERVICES = ("registry", "ingest", "search")


DEPENDENCY_NAMES = {"database": "basis data", "nats": "layanan pesan (NATS)"}


async def _read_small(response: httpx.Response) -> None:
    """Read an error answer (a service's error body is small) so its code can be read; close."""
    try:
        await response.aread()
    except httpx.HTTPError:
        pass
    finally:
        await response.aclose()


def _dependency(response: httpx.Response) -> str | None:
    """The dependency a service's 503 names (``details[0].dependency``), if it names one."""
    try:
        details = _json.loads(response.content)["error"]["details"]
        return str(details[0]["dependency"])
    except (ValueError, KeyError, IndexError, TypeError, httpx.ResponseNotRead):
        return None


class PassThrough(Exception):
    """An upstream 4xx the gateway read itself: answered to the client unchanged."""

    def __init__(self, status_code: int, body: bytes, content_type: str | None):
        super().__init__(f"upstream answered {status_code}")
        self.status_code = status_code
        self.body = body
        self.content_type = content_type or "application/json"

    def json(self) -> Any:
        try:
            return _json.loads(self.body)
        except ValueError:
            return {}


class _Retryable(Exception):
    """A GET that failed in a way worth one more try."""

    def __init__(self, response: httpx.Response | None = None, exc: Exception | None = None):
        super().__init__(str(exc or response))
        self.response = response
        self.exc = exc


@dataclass
class Upstreams:
    """Per service, httpx clients over the gateway's lean keep-alive transport
    (``transport.py``), used in turn; with replicas (comma-separated URLs) the clients are
    spread over them, so turns (and a retried GET) go round the replicas."""

    settings: GatewaySettings
    pools: dict[str, list[httpx.AsyncClient]]
    transports: dict[int, LeanTransport]  # id(client) -> the transport under it

    @classmethod
    def open(cls, settings: GatewaySettings) -> "Upstreams":
        shards = max(1, settings.pool_shards)
        per_shard = max(1, settings.max_connections // shards)
        timeout = httpx.Timeout(settings.upstream_timeout, connect=settings.connect_timeout)
        urls = {"registry": settings.registry_url, "ingest": settings.ingest_url,
                "search": settings.search_url}
        auth = ServiceAuth(settings.signer("gateway"))
        # a comma-separated URL list names replicas (`satudata up --replicas`): the shards
        # are spread over them, so turns (and a retried GET) go round the replicas
        pools: dict[str, list[httpx.AsyncClient]] = {}
        transports: dict[int, LeanTransport] = {}
        for name, url in urls.items():
            replicas = [u.strip() for u in url.split(",") if u.strip()]
            pools[name] = []
            for i in range(max(shards, len(replicas))):
                transport = LeanTransport(per_shard)
                client = httpx.AsyncClient(base_url=replicas[i % len(replicas)],
                                           transport=transport, timeout=timeout,
                                           headers={"Accept-Encoding": "identity"}, auth=auth)
                pools[name].append(client)
                transports[id(client)] = transport
        return cls(settings, pools, transports)

    def __post_init__(self) -> None:
        self._turn = {name: itertools.cycle(pool) for name, pool in self.pools.items()}
        self.signer = self.settings.signer("gateway")

    def client(self, service: str) -> httpx.AsyncClient:
        return next(self._turn[service])

    async def close(self) -> None:
        for pool in self.pools.values():
            for client in pool:
                await client.aclose()

    async def send(self, service: str, method: str, path: str, *, params=None,
                   headers: dict[str, str] | None = None, content: Any = None,
                   json: Any = None, stream: bool = False,
                   timeout: httpx.Timeout | None = None) -> httpx.Response:
        """One call; failures become the gateway's typed errors. 4xx/2xx returned as they are.

        A call with a path as it came and a body of bytes (the proxy's) is serialized and
        signed here and handed straight to the transport; others go through httpx."""
        client = self.client(service)
        headers = dict(headers or {})
        rid = request_id_var.get()
        if rid:
            headers[REQUEST_ID_HEADER] = rid
        if service == "ingest" and headers.get(PRINCIPAL_HEADER):
            # ingest may act for this user within the request (its dry run asks the registry):
            # only the gateway vouches for a principal, so it gives ingest its proof to forward
            headers[PROOF_HEADER] = principal_proof(self.signer, headers[PRINCIPAL_HEADER])
        if params is None and json is None and timeout is None and path.isascii() \
                and isinstance(content, (bytes, type(None))):
            # signed anew for each attempt: a retry under the same call id would be refused as
            # a replay (and logged as a wrong secret) while the service was only briefly away
            def call():
                return self._direct(client, method, path, headers, content or b"")()
        else:  # httpx's auth flow signs each send
            request = client.build_request(method, path, params=params, headers=headers,
                                           content=content, json=json,
                                           timeout=timeout or client.timeout)
            call = functools.partial(client.send, request, stream=True)
        attempts = 1 + (self.settings.get_retries if method in ("GET", "HEAD") else 0)
        for attempt in range(attempts):  # a small loop: cheaper than a retry object per call
            try:
                response = await self._once(call, method)
                break
            except _Retryable as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(min(0.5, 0.05 * 2 ** attempt))
                    continue
                if exc.response is not None:
                    raise self._fail_status(service, exc.response) from None
                raise self.transport_error(service, exc.exc) from None
            except httpx.HTTPError as exc:
                raise self.transport_error(service, exc) from None
        if response.status_code >= 500 or REFUSED_HEADER in response.headers:
            await _read_small(response)
            raise self._fail_status(service, response)
        if not stream:
            try:
                await response.aread()
            except httpx.HTTPError as exc:
                raise self.transport_error(service, exc) from None
            finally:
                await response.aclose()
        return response

    def _direct(self, client: httpx.AsyncClient, method: str, path: str,
                headers: dict[str, str], body: bytes):
        """The proxy's call, serialized once: the raw target signed as it is sent."""
        url = client.base_url
        signing = signed_headers(self.signer, method, path, body,
                                 headers.get(PRINCIPAL_HEADER, ""), headers.get(PROOF_HEADER, ""))
        pairs = [(b"host", url.netloc), (b"accept-encoding", b"identity"),
                 *((k.encode("latin-1"), v.encode("latin-1"))
                   for k, v in (headers | signing).items())]
        data = serialize(method, path.encode("ascii"), pairs, body)
        key = (url.host, url.port or 80)
        timeouts = client.timeout.as_dict()
        return functools.partial(self.transports[id(client)].send_bytes, key, method, data, timeouts)

    async def _once(self, call, method) -> httpx.Response:
        retryable = method in ("GET", "HEAD")
        try:
            response = await call()
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if retryable:
                raise _Retryable(exc=exc) from exc
            raise
        if retryable and response.status_code in (502, 503):
            await _read_small(response)
            raise _Retryable(response=response)
        return response

    @staticmethod
    def transport_error(service: str, exc: Exception | None) -> Exception:
        log.warning("upstream %s failed: %s: %s", service, type(exc).__name__, exc)
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return UpstreamTimeout(f"Layanan {service} tidak menjawab tepat waktu.",
                                   code="upstream_timeout", details=[{"service": service}])
        return ServiceUnavailable(f"Layanan {service} sedang tidak tersedia; coba lagi nanti.",
                                  code="upstream_unavailable", details=[{"service": service}],
                                  headers={"Retry-After": "5"})

    @staticmethod
    def _fail_status(service: str, response: httpx.Response) -> Exception:
        if REFUSED_HEADER in response.headers:  # our signature, not the caller, was refused
            log.error("upstream %s refused the gateway's signature: check that its "
                      "SATUDATA_SIGNING_PUBLIC_KEYS lists the gateway's current key", service)
            return UpstreamError(f"Layanan {service} mengalami gangguan.", code="upstream_error",
                                 details=[{"service": service, "status": response.status_code}])
        if response.status_code == 503:
            dependency = _dependency(response)
            if dependency:  # the service runs; what it needs is away: say which
                log.warning("upstream %s answered 503: its %s is away", service, dependency)
                return ServiceUnavailable(
                    f"Layanan {service} sedang tidak dapat menghubungi "
                    f"{DEPENDENCY_NAMES.get(dependency, dependency)}; data Anda aman, coba lagi "
                    "sebentar lagi.", code="dependency_unavailable",
                    details=[{"service": service, "dependency": dependency}],
                    headers={"Retry-After": response.headers.get("retry-after", "5")})
            log.warning("upstream %s answered 503", service)
            return ServiceUnavailable(f"Layanan {service} sedang tidak tersedia; coba lagi nanti.",
                                     code="upstream_unavailable",
                                     details=[{"service": service}], headers={"Retry-After": "5"})
        log.warning("upstream %s answered %s", service, response.status_code)
        if response.status_code == 504:
            return UpstreamTimeout(f"Layanan {service} tidak menjawab tepat waktu.",
                                  code="upstream_timeout", details=[{"service": service}])
        return UpstreamError(f"Layanan {service} mengalami gangguan.", code="upstream_error",
                            details=[{"service": service, "status": response.status_code}])

    async def get_json(self, service: str, path: str, *, params=None,
                       headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """A GET whose JSON body the gateway itself reads (CKAN, exports, feeds).

        A 4xx answer raises ``PassThrough`` so the client gets it unchanged."""
        response = await self.send(service, "GET", path, params=params, headers=headers)
        if response.status_code >= 300:
            raise PassThrough(response.status_code, response.content,
                              response.headers.get("content-type"))
        try:
            return response.status_code, response.json()
        except ValueError:
            raise UpstreamError(f"Layanan {service} memberi jawaban yang tidak dapat dibaca.",
                                code="upstream_error") from None

    async def healthz(self, service: str) -> str:
        try:
            response = await self.client(service).get("/healthz", timeout=2.0)
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"error: status {response.status_code}"
