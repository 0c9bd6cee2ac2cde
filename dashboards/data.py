"""The bridge between Dash's synchronous callbacks and the warehouse's asyncpg queries: one event loop in a
background thread owns the pool; a callback submits a query coroutine and waits for its rows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from warehouse.db import create_pool

__all__ = ["Warehouse"]

T = TypeVar("T")


class Warehouse:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="warehouse", daemon=True)
        self.thread.start()
        self.pool: asyncpg.Pool = self._wait(create_pool(url, timeout=timeout, max_size=8), timeout + 5)
        self.timeout = timeout

    def _wait(self, coroutine: Awaitable[T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def run(self, query: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run `query(pool, *args, **kwargs)` on the warehouse's loop and return its result."""
        return self._wait(query(self.pool, *args, **kwargs), self.timeout)

    def close(self) -> None:
        self._wait(self.pool.close(), self.timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
