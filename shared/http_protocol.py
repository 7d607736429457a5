"""uvicorn's HTTP protocol with a deadline for a request's head.

uvicorn times out an idle keep-alive connection, but not a request whose headers arrive a byte
at a time: 300 such connections held a worker's sockets for as long as the clients liked. This
protocol closes a connection whose request line and headers have not all arrived within
``SATUDATA_HEADER_TIMEOUT`` seconds (default 10) of its first byte (or of the connection).
Bodies have their own limits (the gateway's ``GATEWAY_BODY_TIMEOUT`` and minimum rate).

Used by every service: ``uvicorn --http shared.http_protocol:HeaderTimeoutProtocol``
(``satudata/platform.py``, ``deploy/Dockerfile``).
"""

from __future__ import annotations

import asyncio
import os

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = float(os.environ.get("SATUDATA_HEADER_TIMEOUT", "10"))


class HeaderTimeoutProtocol(HttpToolsProtocol):
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(HEADER_TIMEOUT, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()
