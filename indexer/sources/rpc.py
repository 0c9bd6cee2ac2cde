"""JSON-RPC to a Solana cluster for the indexer: single calls and batches, bounded, retried, polite.

The connection pool is solana-py's `AsyncHTTPProvider` (real sockets, keep-alive); on top of it this
client sends raw JSON-RPC bodies, because the indexer needs what solana-py's typed calls hide: JSON-RPC
batches (a JSON array of requests in one POST), the raw transaction JSON for the decoder, and the HTTP
status and `Retry-After` of a 429. At most `concurrency` requests are in flight; transport errors, 5xx,
timeouts and "not available yet" RPC errors are retried with exponential backoff and jitter; a 429 waits
exactly as long as the server's Retry-After asks (at least), without holding a concurrency slot.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import httpx2
import orjson
from solana.rpc.async_http_provider import AsyncHTTPProvider

from indexer import metrics
from indexer.sources.base import SourceError

__all__ = ["RpcClient"]

# JSON-RPC errors that mean "try again shortly": block/slot not available yet, node behind, status unknown
_TRANSIENT_CODES = {-32004, -32005, -32014, -32016, -32603}
_HEADERS = {"Content-Type": "application/json"}


class RpcClient:
    def __init__(
        self,
        url: str,
        *,
        concurrency: int = 8,
        max_retries: int = 8,
        timeout_s: float = 30.0,
        backoff_base_s: float = 0.1,
        backoff_max_s: float = 10.0,
    ) -> None:
        self.url = url
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.provider = AsyncHTTPProvider(
            url, timeout=timeout_s, http2=False, max_connections=concurrency * 2, max_transport_retries=0
        )
        self.slots = asyncio.Semaphore(concurrency)
        self.waited_for_429_s = 0.0  # how long this client has honoured Retry-After, for tests and logs
        self._ids = 0

    async def __aenter__(self) -> RpcClient:
        await self.provider.__aenter__()
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.provider.close()

    def _backoff(self, attempt: int) -> float:
        delay: float = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
        return delay * (0.5 + random.random() / 2)

    async def _post(self, body: str, label: str) -> Any:
        """POST one body; the parsed JSON reply. Retries what may pass; SourceError when it will not."""
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            wait = 0.0
            async with self.slots:
                metrics.RPC_REQUESTS.labels(label).inc()
                try:
                    reply = await self.provider.session.post(self.provider.endpoint_uri, content=body, headers=_HEADERS)
                except (httpx2.TransportError, httpx2.TimeoutException) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    metrics.RPC_RETRIES.labels("transport").inc()
                    wait = self._backoff(attempt)
                else:
                    if reply.status_code == 200:
                        try:
                            return orjson.loads(reply.content)
                        except ValueError as exc:
                            raise SourceError(f"{label}: the reply is not JSON: {exc}") from exc
                    last = f"HTTP {reply.status_code}"
                    if reply.status_code == 429:
                        metrics.RPC_RETRIES.labels("429").inc()
                        wait = _retry_after(reply.headers.get("retry-after")) or self._backoff(attempt)
                        self.waited_for_429_s += wait
                    elif reply.status_code >= 500 or reply.status_code == 408:
                        metrics.RPC_RETRIES.labels(str(reply.status_code)).inc()
                        wait = self._backoff(attempt)
                    else:
                        raise SourceError(f"{label}: HTTP {reply.status_code}: {reply.text[:200]}")
            await asyncio.sleep(wait)  # outside the slot: a rate-limited client does not block the others
        raise SourceError(f"{label}: gave up after {self.max_retries + 1} attempts ({last})")

    def _request(self, method: str, params: list[Any]) -> dict[str, Any]:
        self._ids += 1
        return {"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params}

    async def call(self, method: str, params: list[Any]) -> Any:
        for attempt in range(self.max_retries + 1):
            reply = await self._post(json.dumps(self._request(method, params)), method)
            error = reply.get("error") if isinstance(reply, dict) else {"message": "reply is not an object"}
            if not error:
                return reply.get("result")
            if error.get("code") not in _TRANSIENT_CODES or attempt == self.max_retries:
                raise SourceError(f"{method}: {error.get('message')} (code {error.get('code')})")
            metrics.RPC_RETRIES.labels("rpc_error").inc()
            await asyncio.sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    async def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Several calls in one JSON-RPC batch; results in the order of `calls`. Items that fail are retried
        (in a smaller batch) a few times; one that keeps failing is a SourceError."""
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        label = calls[0][0] if calls else "batch"
        for attempt in range(self.max_retries + 1):
            requests: dict[Any, int] = {}
            body = []
            for index in pending:
                request = self._request(*calls[index])
                requests[request["id"]] = index
                body.append(request)
            reply = await self._post(json.dumps(body), f"batch:{label}")
            if not isinstance(reply, list):
                raise SourceError(f"batch:{label}: the reply is not a list: {str(reply)[:200]}")
            failed: list[int] = []
            problem = ""
            for item in reply:
                found = requests.get(item.get("id")) if isinstance(item, dict) else None
                if found is None:
                    continue
                index = found
                if item.get("error"):
                    failed.append(index)
                    problem = str(item["error"].get("message"))
                else:
                    results[index] = item.get("result")
                requests.pop(item["id"])
            failed += list(requests.values())  # items the reply left out
            if not failed:
                return results
            if attempt == self.max_retries:
                raise SourceError(f"batch:{label}: {len(failed)} items kept failing ({problem or 'missing'})")
            metrics.RPC_RETRIES.labels("batch_item").inc(len(failed))
            pending = failed
            await asyncio.sleep(self._backoff(attempt))
        raise AssertionError("unreachable")

    # -- typed helpers ---------------------------------------------------------------------------------

    async def get_slot(self, commitment: str = "confirmed") -> int:
        return int(await self.call("getSlot", [{"commitment": commitment}]))

    async def get_blocks(self, start: int, end: int) -> list[int]:
        return [int(s) for s in await self.call("getBlocks", [start, end, {"commitment": "finalized"}])]

    async def get_signatures(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = 1000,
        commitment: str = "confirmed",
    ) -> list[dict[str, Any]]:
        options: dict[str, Any] = {"limit": limit, "commitment": commitment}
        if before:
            options["before"] = before
        if until:
            options["until"] = until
        page = await self.call("getSignaturesForAddress", [address, options])
        if not isinstance(page, list):
            raise SourceError(f"getSignaturesForAddress: not a list: {str(page)[:200]}")
        return page

    async def get_transactions(
        self, signatures: Sequence[str], *, commitment: str = "confirmed", batch_size: int = 100, null_retries: int = 3
    ) -> list[dict[str, Any] | None]:
        """getTransaction for each signature (json encoding, v0 allowed), in batches. A transaction the node
        returns null for is asked again a few times (it may not have caught up) before it stays None."""
        options = {"encoding": "json", "maxSupportedTransactionVersion": 0, "commitment": commitment}
        chunks = [signatures[i : i + batch_size] for i in range(0, len(signatures), batch_size)]
        parts = await asyncio.gather(*(self.batch([("getTransaction", [s, options]) for s in c]) for c in chunks))
        results: list[dict[str, Any] | None] = [r for part in parts for r in part]
        for attempt in range(null_retries):
            missing = [i for i, r in enumerate(results) if r is None]
            if not missing:
                break
            await asyncio.sleep(self._backoff(attempt + 1))
            again = await self.batch([("getTransaction", [signatures[i], options]) for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    async def get_signature_statuses(self, signatures: Sequence[str]) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for i in range(0, len(signatures), 256):
            reply = await self.call(
                "getSignatureStatuses", [list(signatures[i : i + 256]), {"searchTransactionHistory": True}]
            )
            out += reply["value"]
        return out


def _retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0  # an HTTP date: fall back to our own backoff
