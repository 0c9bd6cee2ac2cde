"""`memefans index`: the indexer's composition root. Settings in, parts built and wired, the pipeline run.

By default it indexes our gift pool on the local chain into the embedded warehouse: a backfill from the
committed cursor (or the program's first transaction) to the tip, then live. Logs are JSON lines on
stderr; a progress line (rate, ETA) shows the backfill when stderr is a terminal; Prometheus metrics are
served on --metrics-port.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from indexer import metrics
from indexer.decode import Decoder, load_idl
from indexer.pipeline import Pipeline, Stats
from indexer.projection import Projector
from indexer.settings import IndexerSettings
from indexer.sources import BackfillSource, LiveSource, RpcClient, SourceError
from indexer.sources.base import Batch, Source
from memefans.ops import quiet_http_clients
from warehouse.db import connect, effective_url
from warehouse.errors import WarehouseError
from warehouse.identity import ChainIdentity, claim
from warehouse.settings import WarehouseSettings
from warehouse.sink import open_sink

__all__ = ["main"]

log = logging.getLogger("memefans.indexer")
_STANDARD = set(vars(logging.makeLogRecord({})))


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message and every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and k != "message"})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class Progress:
    """The backfill's progress line: done/total, transactions a second, time to go."""

    def __init__(self, stream: Any = sys.stderr) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last = 0.0
        self.ended = False

    def __call__(self, batch: Batch, stats: Stats) -> None:
        if not batch.backfill:
            if not self.ended and self.tty and stats.transactions:
                self.stream.write("\n")
            self.ended = True
            return
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 5.0) and batch.remaining:
            return
        self.last = now
        rate = stats.rate()
        remaining = batch.remaining or 0
        done = stats.transactions
        total = done + remaining
        eta = remaining / rate if rate > 0 else float("inf")
        width = 30
        filled = int(width * done / total) if total else width
        line = (
            f"backfill [{'#' * filled}{'.' * (width - filled)}] {done}/{total} tx  "
            f"{rate:,.0f} tx/s  {stats.events} events  ETA {eta:,.1f} s"
        )
        if self.tty:
            self.stream.write("\r" + line)
            self.stream.flush()
        else:
            log.info("backfill progress", extra={"done": done, "total": total, "tx_per_s": round(rate, 1)})


def _parser(settings: IndexerSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memefans index", description="Stream a program's transactions into the warehouse, exactly once."
    )
    parser.add_argument("--rpc-url", default=settings.rpc_url)
    parser.add_argument("--ws-url", default=settings.ws_url, help="default: the RPC port + 1")
    parser.add_argument("--program-id", default=settings.program_id)
    parser.add_argument("--idl", default=str(settings.idl), help="the program's Anchor IDL (0.30+ or legacy)")
    parser.add_argument("--commitment", choices=("confirmed", "finalized"), default=settings.commitment)
    parser.add_argument("--from-slot", type=int, default=settings.from_slot)
    parser.add_argument("--backfill-only", action="store_true", default=settings.backfill_only)
    parser.add_argument("--metrics-port", type=int, default=settings.metrics_port, help="0: no metrics server")
    parser.add_argument("--batch-size", type=int, default=settings.batch_size)
    parser.add_argument("--concurrency", type=int, default=settings.concurrency)
    parser.add_argument("--log-level", default="info")
    return parser


def start_fresh_hint(warehouse: WarehouseSettings) -> str:
    """How to begin from an empty warehouse, for the chain-mismatch sentence: what really works here."""
    if warehouse.database_url:
        return "to index it, point DATABASE_URL at another database (migrated with `memefans db migrate`)"
    return (
        f"to index it, start an empty warehouse: `memefans db down`, remove {warehouse.pg_dir}, then "
        "`memefans db up` and `memefans db migrate` (or set MEMEFANS_DATA_DIR or DATABASE_URL to another one)"
    )


async def claim_chain(
    rpc: RpcClient, url: str, settings: IndexerSettings, *, start_fresh: str | None = None
) -> ChainIdentity:
    """Record the chain (its genesis hash) and program this warehouse holds, or check them: a warehouse
    belongs to one chain, and a second one's history must not be mixed into it (ChainMismatch)."""
    genesis = await rpc.call("getGenesisHash", [])
    asked = ChainIdentity(str(genesis), settings.program_id, settings.rpc_url)
    conn = await connect(url, timeout=settings.warehouse.connect_timeout)
    try:
        if await claim(conn, asked, start_fresh=start_fresh or start_fresh_hint(settings.warehouse)):
            log.info("warehouse claimed for this chain", extra={"genesis_hash": asked.genesis_hash})
    finally:
        await conn.close()
    return asked


async def run(
    settings: IndexerSettings,
    *,
    database_url: str | None = None,
    on_batch: Callable[[Batch, Stats], None] | None = None,
    start_fresh: str | None = None,
) -> Stats:
    """Build the parts from `settings` and run until the backfill ends (--backfill-only) or cancelled.
    `on_batch` is called after every committed batch (progress, measurements). Before anything is written,
    the warehouse's chain and program are checked (`start_fresh`: how to begin anew, for the refusal)."""
    idl = load_idl(settings.idl)
    if idl.address != settings.program_id:
        idl = idl.with_address(settings.program_id)
    decoder = Decoder([idl])
    projector = Projector(settings.program_id)
    url = database_url or effective_url(settings.warehouse)
    sink = await open_sink(url)
    try:
        async with RpcClient(settings.rpc_url, concurrency=settings.concurrency) as rpc:
            await claim_chain(rpc, url, settings, start_fresh=start_fresh)
            source: Source
            if settings.backfill_only:
                source = BackfillSource(
                    rpc,
                    settings.program_id,
                    commitment=settings.commitment,
                    from_slot=settings.from_slot,
                    batch_size=settings.batch_size,
                )
            else:
                source = LiveSource(
                    rpc,
                    settings.effective_ws_url,
                    settings.program_id,
                    commitment=settings.commitment,
                    sweep_interval_s=settings.sweep_interval_s,
                )
            pipeline = Pipeline(
                source=source,
                decoder=decoder,
                projector=projector,
                sink=sink,
                cursor_name=settings.program_id,
                chain=rpc,
                finality_interval_s=settings.finality_interval_s,
                commitment=settings.commitment,
                on_batch=on_batch or Progress(),
            )
            return await pipeline.run()
    finally:
        await sink.close()


def main(argv: list[str]) -> int:
    defaults = IndexerSettings()
    args = _parser(defaults).parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler], force=True)
    quiet_http_clients()
    settings = defaults.model_copy(
        update={
            "rpc_url": args.rpc_url,
            "ws_url": args.ws_url,
            "program_id": args.program_id,
            "idl": args.idl,
            "commitment": args.commitment,
            "from_slot": args.from_slot,
            "backfill_only": args.backfill_only,
            "metrics_port": args.metrics_port,
            "batch_size": args.batch_size,
            "concurrency": args.concurrency,
        }
    )
    if settings.metrics_port:
        from prometheus_client import start_http_server

        try:
            start_http_server(settings.metrics_port, settings.metrics_host, registry=metrics.REGISTRY)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            print(
                f"memefans index: port {settings.metrics_port} is in use; choose another with --metrics-port "
                "or MEMEFANS_INDEXER_METRICS_PORT (0: no metrics server)",
                file=sys.stderr,
            )
            return 1
    log.info(
        "indexing",
        extra={"rpc_url": settings.rpc_url, "program_id": settings.program_id, "live": not settings.backfill_only},
    )
    try:
        stats = asyncio.run(_until_signal(settings))
    except (SourceError, WarehouseError, ValueError, OSError) as exc:
        log.error("indexer stopped", extra={"reason": f"{type(exc).__name__}: {exc}"})
        print(f"memefans index: {exc}", file=sys.stderr)
        return 1
    if stats is not None:
        log.info(
            "done",
            extra={
                "transactions": stats.transactions,
                "events": stats.events,
                "dead_letters": stats.dead_letters,
                "tx_per_s": round(stats.rate(), 1),
            },
        )
    return 0


async def _until_signal(settings: IndexerSettings) -> Stats | None:
    task = asyncio.create_task(run(settings))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        log.info("stopped by signal")
        return None
