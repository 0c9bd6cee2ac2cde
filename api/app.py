"""The API's application factory: routes, JSON errors, rate limiting, CORS, ETags and metrics.

`create_app(settings)` is the composition root's one call; the asyncpg pool opens in the lifespan, so
importing this module or building the app touches no database.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from solana.rpc.async_api import AsyncClient
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routes.actions import router as actions_router
from api.routes.v1 import DATABASE_DOWN
from api.routes.v1 import router as v1_router
from api.settings import ApiSettings
from api.validation import ApiError
from warehouse.db import create_pool, effective_url

__all__ = ["create_app"]

_PUBLIC_CORS_PREFIXES = ("/actions.json", "/v1/actions/")
_CORS_HEADERS = "Content-Type, Authorization, Accept-Encoding, If-None-Match"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """A token bucket per client: `burst` requests at once, refilled at `per_minute`."""

    per_minute: int
    burst: int
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def retry_after(self, client: str, now: float) -> float:
        """0 when the request may go ahead (and is counted), else seconds until it may."""
        rate = self.per_minute / 60.0
        bucket = self.buckets.get(client)
        if bucket is None:
            if len(self.buckets) > 100_000:  # bounded memory under a spray of addresses
                self.buckets.clear()
            bucket = self.buckets[client] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate


def create_app(settings: ApiSettings | None = None, *, database_url: str | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    url = database_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            url or effective_url(settings.warehouse), timeout=settings.warehouse.connect_timeout, max_size=10
        )
        app.state.rpc = AsyncClient(settings.rpc_url, timeout=10)
        app.state.blockchain_id = await _blockchain_id(app.state.rpc)
        try:
            yield
        finally:
            await app.state.rpc.close()
            await app.state.pool.close()

    app = FastAPI(
        title="MEMEFANS API",
        version="1",
        description="Indexed gift totals and history of the MEMEFANS gift pool. Public chain data only.",
        lifespan=lifespan,
    )
    app.state.max_lag_seconds = settings.max_lag_seconds
    app.include_router(v1_router)
    app.include_router(actions_router)
    _install_errors(app)
    _install_middleware(app, settings)
    return app


async def _blockchain_id(rpc: AsyncClient) -> str:
    """CAIP-2 id of the chain the Actions transactions are for: `solana:` + the genesis hash's first 32 chars."""
    try:
        return "solana:" + str((await rpc.get_genesis_hash()).value)[:32]
    except Exception:  # the chain may be down while the read API is up; Actions then answer 503 anyway
        return "solana:unknown"


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _error(400, "invalid_request", "; ".join(parts))

    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        # the warehouse went away (restarted, unreachable): say so, and when to try again, instead of a 500
        message = f"the warehouse is unavailable ({type(exc).__name__}); try again shortly"
        return _error(503, "database_unavailable", message, {"Retry-After": "5"})

    for failure in DATABASE_DOWN:
        app.add_exception_handler(failure, database_down)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))


def _install_middleware(app: FastAPI, settings: ApiSettings) -> None:
    registry = CollectorRegistry()
    requests = Counter("memefans_api_requests", "Requests answered", ["route", "status"], registry=registry)
    latency = Histogram(
        "memefans_api_request_seconds",
        "Time to answer a request",
        ["route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
    )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(
        EdgeMiddleware,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        extension_origin=settings.extension_origin,
        cache_max_age=settings.cache_max_age,
        requests=requests,
        latency=latency,
    )


class EdgeMiddleware:
    """Rate limit, CORS, ETag/304 and metrics around every HTTP request, as plain ASGI: no response
    streaming wrapper, so a request costs one pass through here (about a third of the time of Starlette's
    BaseHTTPMiddleware on the creator endpoint)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        extension_origin: str,
        cache_max_age: int,
        requests: Counter,
        latency: Histogram,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.extension_origin = extension_origin
        self.cache_control = f"public, max-age={cache_max_age}".encode()
        self.requests = requests
        self.latency = latency

    def _origin(self, path: str, headers: Headers) -> str | None:
        origin = headers.get("origin")
        if origin is None:
            return None
        if path.startswith(_PUBLIC_CORS_PREFIXES):
            return "*"
        return origin if fnmatch.fnmatchcase(origin, self.extension_origin) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        path: str = scope["path"]
        method: str = scope["method"]
        origin = self._origin(path, headers)
        status = 500
        try:
            if method == "OPTIONS" and "access-control-request-method" in headers:
                if origin is None:
                    response: Response = _error(403, "cors_refused", "this origin may not call the API from a browser")
                else:
                    response = Response(status_code=204, headers=_cors_headers(origin))
                status = response.status_code
                await response(scope, receive, send)
                return
            client = scope["client"][0] if scope.get("client") else "unknown"
            wait = self.limiter.retry_after(client, time.monotonic())
            if wait > 0:
                response = _error(
                    429, "rate_limited", f"too many requests from {client}; retry later",
                    {"Retry-After": str(math.ceil(wait))},
                )  # fmt: skip
                if origin is not None:
                    response.headers.update(_cors_headers(origin))
                status = 429
                await response(scope, receive, send)
                return
            etag_wanted = method == "GET" and path.startswith("/v1/")
            if_none_match = headers.get("if-none-match", "") if etag_wanted else ""
            start: Message | None = None
            body: list[bytes] = []

            async def wrapped(message: Message) -> None:
                nonlocal start, status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    extra = list(_cors_raw(origin)) if origin is not None else []
                    if etag_wanted and status == 200:
                        start = {**message, "headers": list(message.get("headers", [])) + extra}
                        return
                    if extra:
                        message = {**message, "headers": list(message.get("headers", [])) + extra}
                    await send(message)
                elif start is not None:
                    body.append(message.get("body", b""))
                    if not message.get("more_body", False):
                        await self._send_tagged(start, b"".join(body), if_none_match, send)
                else:
                    await send(message)

            await self.app(scope, receive, wrapped)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(route, str(status)).inc()
            self.latency.labels(route).observe(time.perf_counter() - started)

    async def _send_tagged(self, start: Message, body: bytes, if_none_match: str, send: Send) -> None:
        etag = ('W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"').encode()
        kept = [(k, v) for k, v in start["headers"] if k.lower() not in (b"content-length", b"etag", b"cache-control")]
        tags = {t.strip() for t in if_none_match.split(",")} if if_none_match else set()
        if etag.decode() in tags:
            cors = [(k, v) for k, v in kept if k.lower().startswith(b"access-control-") or k.lower() == b"vary"]
            headers = [(b"etag", etag), (b"cache-control", self.cache_control), *cors]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*kept, (b"etag", etag), (b"cache-control", self.cache_control),
                   (b"content-length", str(len(body)).encode())]  # fmt: skip
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _cors_raw(origin: str) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in _cors_headers(origin).items()]


def _cors_headers(origin: str) -> dict[str, str]:
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, PUT, OPTIONS",
        "Access-Control-Allow-Headers": _CORS_HEADERS,
        "Access-Control-Expose-Headers": "ETag, X-Action-Version, X-Blockchain-Ids, Retry-After",
    }
    if origin != "*":
        headers["Vary"] = "Origin"
    return headers
