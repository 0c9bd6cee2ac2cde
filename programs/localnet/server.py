"""The local chain's servers: HTTP JSON-RPC (Starlette on uvicorn) and the PubSub websocket, one event loop.

The chain is touched only from the event loop, so no locks are needed: RPC calls, the slot clock and
notifications take turns. `run_localnet()` is the API tests and the demo use.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
import websockets
from solders.pubkey import Pubkey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from programs.localnet.chain import Chain, ChainError, Executed
from programs.localnet.faults import Faults
from programs.localnet.rpc import INVALID_PARAMS, MAX_BODY, RpcHandler, account_json

__all__ = ["Localnet", "run_localnet"]

_COMMITMENTS = ("processed", "confirmed", "finalized")


@dataclass
class _Subscription:
    kind: str
    commitment: str
    send: Any  # the websocket connection
    mentions: str | None = None
    signature: str | None = None
    account: str | None = None  # accountSubscribe: the account; programSubscribe: the owner program
    encoding: str = "base64"


@dataclass
class Localnet:
    """A running local chain: its chain, URLs and the subscriptions of connected clients."""

    chain: Chain
    rpc_port: int
    ws_port: int
    subscriptions: dict[int, _Subscription] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    connections: set[Any] = field(default_factory=set)
    _notified: dict[str, int] = field(default_factory=lambda: {"confirmed": 0, "finalized": 0})
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    # -- notifications ---------------------------------------------------------------------------------

    async def _notify(self, sub_id: int, sub: _Subscription, method: str, result: Any) -> None:
        message = json.dumps({"jsonrpc": "2.0", "method": method, "params": {"result": result, "subscription": sub_id}})
        copies = 2 if self.faults.duplicated() else 1
        if self.faults.notification_delay_ms:
            asyncio.get_running_loop().call_later(
                self.faults.notification_delay_ms / 1000,
                lambda: asyncio.ensure_future(_send(sub.send, message, copies)),
            )
        else:
            await _send(sub.send, message, copies)

    async def transactions_reached(self, executed: list[Executed], commitment: str) -> None:
        """Tell subscribers at `commitment` about transactions that just reached it."""
        for sub_id, sub in list(self.subscriptions.items()):
            if sub.commitment != commitment:
                continue
            for tx in executed:
                context = {"slot": tx.slot}
                if sub.kind == "logs" and (sub.mentions is None or sub.mentions in {str(k) for k in tx.account_keys}):
                    value = {"signature": tx.signature, "err": tx.err, "logs": list(tx.logs)}
                    await self._notify(sub_id, sub, "logsNotification", {"context": context, "value": value})
                elif sub.kind in ("account", "program"):
                    await self._notify_accounts(sub_id, sub, tx)
                elif sub.kind == "signature" and sub.signature == tx.signature:
                    await self._notify(
                        sub_id, sub, "signatureNotification", {"context": context, "value": {"err": tx.err}}
                    )
                    self.subscriptions.pop(sub_id, None)  # signature subscriptions end after one notification

    async def _notify_accounts(self, sub_id: int, sub: _Subscription, tx: Executed) -> None:
        """The accounts a transaction touched, as they are now (this chain keeps no per-commitment state)."""
        context = {"slot": tx.slot}
        for key in tx.account_keys:
            if sub.kind == "account" and str(key) == sub.account:
                value = account_json(self.chain, key, sub.encoding)
                await self._notify(sub_id, sub, "accountNotification", {"context": context, "value": value})
            elif sub.kind == "program":
                value = account_json(self.chain, key, sub.encoding)
                if value is not None and value["owner"] == sub.account:
                    result = {"context": context, "value": {"pubkey": str(key), "account": value}}
                    await self._notify(sub_id, sub, "programNotification", result)

    async def on_executed(self, executed: Executed) -> None:
        await self.transactions_reached([executed], "processed")

    async def tick(self) -> None:
        produced = self.chain.advance()
        for sub_id, sub in list(self.subscriptions.items()):
            if sub.kind == "slot":
                result = {"parent": produced.parent, "root": self.chain.finalized_slot, "slot": produced.slot}
                await self._notify(sub_id, sub, "slotNotification", result)
        for commitment, reached in (("confirmed", self.chain.confirmed_slot), ("finalized", self.chain.finalized_slot)):
            # every slot that reached this commitment since the last tick, once (early slots clamp to the first)
            for slot in range(self._notified[commitment] + 1, min(reached, produced.slot - 1) + 1):
                block = self.chain.slots.get(slot)
                if block is not None:
                    await self.transactions_reached(
                        [self.chain.transactions[s] for s in block.transactions], commitment
                    )
            self._notified[commitment] = max(self._notified[commitment], min(reached, produced.slot - 1))

    # -- PubSub protocol -------------------------------------------------------------------------------

    async def _pubsub(self, connection: Any) -> None:
        owned: set[int] = set()
        self.connections.add(connection)
        try:
            async for raw in connection:
                reply = self._pubsub_request(raw, connection, owned)
                await connection.send(json.dumps(reply))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.connections.discard(connection)
            for sub_id in owned:
                self.subscriptions.pop(sub_id, None)

    def _pubsub_request(self, raw: Any, connection: Any, owned: set[int]) -> dict[str, Any]:
        try:
            request = json.loads(raw)
            method, params, ident = request["method"], request.get("params", []), request.get("id")
        except (ValueError, KeyError, TypeError):
            return {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
        kind = {
            "slotSubscribe": "slot",
            "logsSubscribe": "logs",
            "signatureSubscribe": "signature",
            "accountSubscribe": "account",
            "programSubscribe": "program",
        }.get(method)
        if kind is not None:
            # the config is the last parameter (logs and signature take a filter or a signature first)
            config = params[-1] if kind != "slot" and len(params) > 1 and isinstance(params[-1], dict) else {}
            commitment = config.get("commitment", "finalized")
            if commitment not in _COMMITMENTS:
                return _error(ident, INVALID_PARAMS, f"Invalid params: unknown commitment {commitment}")
            sub = _Subscription(kind, commitment, connection)
            if kind == "logs":
                target = params[0] if params else "all"
                if (
                    isinstance(target, dict)
                    and isinstance(target.get("mentions"), list)
                    and len(target["mentions"]) == 1
                ):
                    sub.mentions = target["mentions"][0]
                elif target not in ("all", "allWithVotes"):
                    return _error(ident, INVALID_PARAMS, "Invalid params: expected 'all' or {mentions: [one pubkey]}")
            if kind == "signature":
                if not params or not isinstance(params[0], str):
                    return _error(ident, INVALID_PARAMS, "Invalid params: missing signature")
                sub.signature = params[0]
            if kind in ("account", "program"):
                try:
                    sub.account = str(Pubkey.from_string(params[0]))
                except (ValueError, TypeError, IndexError):
                    return _error(ident, INVALID_PARAMS, "Invalid params: missing or invalid pubkey")
                sub.encoding = config.get("encoding") or "base64"
                if sub.encoding not in ("base64", "base58", "jsonParsed"):
                    return _error(ident, INVALID_PARAMS, f"Invalid params: unsupported encoding {sub.encoding}")
            sub_id = next(self._ids)
            self.subscriptions[sub_id] = sub
            owned.add(sub_id)
            return {"jsonrpc": "2.0", "result": sub_id, "id": ident}
        if method in (
            "slotUnsubscribe",
            "logsUnsubscribe",
            "signatureUnsubscribe",
            "accountUnsubscribe",
            "programUnsubscribe",
        ):
            target_id = params[0] if params else None
            found = target_id in owned and self.subscriptions.pop(target_id, None) is not None
            owned.discard(target_id)
            if not found:
                return _error(ident, INVALID_PARAMS, "Invalid subscription id.")
            return {"jsonrpc": "2.0", "result": True, "id": ident}
        return _error(ident, -32601, "Method not found")


async def _send(connection: Any, message: str, copies: int) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        for _ in range(copies):
            await connection.send(message)


def _error(ident: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": ident}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def run_localnet(
    *,
    rpc_port: int = 0,
    ws_port: int = 0,
    slot_ms: int = 400,
    finality_depth: int = 32,
    chain: Chain | None = None,
    faults: Faults | None = None,
) -> AsyncIterator[Localnet]:
    """Serve a chain on 127.0.0.1 (port 0: a free one) until the block exits."""
    chain = chain or Chain(slot_ms=slot_ms, finality_depth=finality_depth)
    net = Localnet(chain, rpc_port or _free_port(), ws_port or _free_port(), faults=faults or Faults())
    executed_queue: asyncio.Queue[Executed] = asyncio.Queue()
    handler = RpcHandler(chain, on_executed=executed_queue.put_nowait)

    async def rpc(request: Request) -> Response:
        if net.faults.latency_ms:
            await asyncio.sleep(net.faults.latency_ms / 1000)
        if net.faults.rate_limited():
            limited = {"jsonrpc": "2.0", "error": {"code": 429, "message": "Too many requests"}, "id": None}
            return JSONResponse(limited, 429, headers={"Retry-After": str(net.faults.retry_after_s)})
        declared = int(request.headers.get("content-length") or 0)
        if declared > MAX_BODY:
            return JSONResponse(
                {"jsonrpc": "2.0", "error": {"code": -32600, "message": "request too large"}, "id": None}, 413
            )
        body = await request.body()
        result = handler.handle(body)
        while not executed_queue.empty():
            await net.on_executed(executed_queue.get_nowait())
        status = 413 if isinstance(result, dict) and "larger than" in str(result.get("error", {})) else 200
        return JSONResponse(result, status_code=status)

    async def admin_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                net.faults.update(json.loads(await request.body()))
            except (ValueError, AttributeError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(net.faults.as_dict())

    async def admin_fork(request: Request) -> Response:
        """Declare a not yet finalized slot dead (default: the newest confirmed slot with transactions)."""
        try:
            body = json.loads(await request.body() or b"{}")
            slot = body.get("slot")
            if slot is None:
                candidates = [
                    s for s in range(chain.confirmed_slot, chain.finalized_slot, -1) if chain.slots[s].transactions
                ]
                if not candidates:
                    return JSONResponse({"error": "no unfinalized slot holds transactions"}, 409)
                slot = candidates[0]
            victims = chain.kill_slot(int(slot))
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        except ChainError as exc:
            return JSONResponse({"error": exc.message}, 409)
        return JSONResponse({"slot": slot, "rolled_back": victims})

    async def clock() -> None:
        last_drop = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(slot_ms / 1000)
            await net.tick()
            every = net.faults.ws_drop_every_s
            now = asyncio.get_running_loop().time()
            if every and now - last_drop >= every:
                last_drop = now
                for connection in list(net.connections):
                    await connection.close(1012, "fault injection: connection dropped")

    app = Starlette(
        routes=[
            Route("/", rpc, methods=["POST"]),
            Route("/admin/faults", admin_faults, methods=["GET", "POST"]),
            Route("/admin/fork", admin_fork, methods=["POST"]),
        ]
    )
    config = uvicorn.Config(app, host="127.0.0.1", port=net.rpc_port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server_task = asyncio.create_task(server.serve())
    ws_server = await websockets.serve(net._pubsub, "127.0.0.1", net.ws_port, max_size=MAX_BODY)
    while not server.started:
        if server_task.done():
            await server_task
        await asyncio.sleep(0.01)
    clock_task = asyncio.create_task(clock())
    try:
        yield net
    finally:
        clock_task.cancel()
        ws_server.close()
        await ws_server.wait_closed()
        server.should_exit = True
        await server_task
