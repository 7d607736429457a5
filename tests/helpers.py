"""Small helpers shared by the test suites."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable


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
