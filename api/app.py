"""The API's application factory: routes, JSON errors, rate limiting, CORS, ETags and metrics.

`create_app(settings)` is the composition root's one call; the asyncpg pool opens in the lifespan, so
importing this module or building the app touches no database.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from solana.rpc.async_api import AsyncClient
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.routes.actions import router as actions_router
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
    app.state.max_lag_slots = 150
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
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def cors_origin(request: Request) -> str | None:
        origin = request.headers.get("origin")
        if origin is None:
            return None
        if request.url.path.startswith(_PUBLIC_CORS_PREFIXES):
            return "*"
        return origin if fnmatch.fnmatchcase(origin, settings.extension_origin) else None

    @app.middleware("http")
    async def edge(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        route = request.scope.get("route")
        allowed_origin = cors_origin(request)
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            if allowed_origin is None:
                return _error(403, "cors_refused", "this origin may not call the API from a browser")
            return Response(status_code=204, headers=_cors_headers(allowed_origin))
        client = request.client.host if request.client else "unknown"
        wait = limiter.retry_after(client, time.monotonic())
        if wait > 0:
            response: Response = _error(
                429,
                "rate_limited",
                f"too many requests from {client}; retry later",
                {"Retry-After": str(math.ceil(wait))},
            )
        else:
            response = await call_next(request)
            if request.method == "GET" and response.status_code == 200 and request.url.path.startswith("/v1/"):
                response = await _with_etag(request, response, settings.cache_max_age)
        if allowed_origin is not None:
            response.headers.update(_cors_headers(allowed_origin))
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        requests.labels(name, str(response.status_code)).inc()
        latency.labels(name).observe(time.perf_counter() - started)
        return response


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


async def _with_etag(request: Request, response: Response, max_age: int) -> Response:
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers["ETag"] = etag
    headers["Cache-Control"] = f"public, max-age={max_age}"
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": headers["Cache-Control"]})
    return Response(body, status_code=200, headers=headers, media_type=response.media_type)
