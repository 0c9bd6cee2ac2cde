"""`memefans db up|down|status|url|migrate`: the warehouse's command, and its composition root."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from warehouse.db import effective_url, embedded_server, ping, read_status, redact, upgrade
from warehouse.errors import WarehouseError
from warehouse.settings import WarehouseSettings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memefans db",
        description="The warehouse database. With DATABASE_URL unset, an embedded PostgreSQL "
        "under .memefans/ on 127.0.0.1:MEMEFANS_DB_PORT (default 54329).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("up", help="start the embedded server (a running one is reused)")
    sub.add_parser("down", help="stop the embedded server; its data is kept")
    sub.add_parser("status", help="server version, URL, schema revision, row counts")
    sub.add_parser("url", help="print the database URL alone")
    migrate = sub.add_parser("migrate", help="bring the schema to a revision (default: head)")
    migrate.add_argument("revision", nargs="?", default="head")
    return parser


def bring_up(settings: WarehouseSettings) -> str:
    """Start the embedded server unless DATABASE_URL is set; return the URL to use."""
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings)
    started = time.perf_counter()
    if server.up():
        print(
            f"started PostgreSQL on 127.0.0.1:{server.port} in {time.perf_counter() - started:.1f}s "
            f"(data: {server.root})",
            file=sys.stderr,
        )
    else:
        port = server.running_port()
        print(f"PostgreSQL already running on 127.0.0.1:{port} (data: {server.root})", file=sys.stderr)
    return server.url()


def run(action: str, settings: WarehouseSettings, revision: str = "head") -> int:
    if action == "up":
        url = bring_up(settings)
        print(redact(url))
        return 0
    if action == "down":
        if settings.database_url:
            print("DATABASE_URL is set: that server is not ours to stop", file=sys.stderr)
            return 0
        stopped = embedded_server(settings).down()
        print("stopped" if stopped else "not running", file=sys.stderr)
        return 0
    url = effective_url(settings)
    if action == "url":
        print(url)
    elif action == "migrate":
        asyncio.run(ping(url, timeout=settings.connect_timeout))  # fails fast if unreachable
        upgrade(url, revision)
        print(f"migrated to {revision}", file=sys.stderr)
    elif action == "status":
        print(asyncio.run(read_status(url, timeout=settings.connect_timeout)).render())
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args.action, WarehouseSettings(), getattr(args, "revision", "head"))
    except WarehouseError as exc:
        print(f"memefans db {args.action}: {exc}", file=sys.stderr)
        return 1
