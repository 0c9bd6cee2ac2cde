"""`memefans jobs run [NAME...] [--full] [--json]` runs jobs once and prints what each did; `memefans jobs
schedule` runs them on their intervals until stopped (the jobs process's composition root).

With --json, one JSON object a job, each on its own line: `job`, `rows`, `seconds`, `error` (null when it
went well); what the job noted under its own name is merged in (reconciliation: `verdict`, `reason` when
skipped, `slot`, `vaults`, `mismatches`), any other note sits under `notes`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from typing import Any

from warehouse.db import create_pool, effective_url
from warehouse.errors import WarehouseError
from warehouse.jobs.runner import JOBS, JobContext, JobResult, run_jobs
from warehouse.jobs.settings import JobSettings

__all__ = ["main"]


def as_json(result: JobResult) -> str:
    """One job's run as one line of JSON."""
    notes = dict(result.notes)
    own = notes.pop(result.job, None)
    line: dict[str, Any] = {"job": result.job, "rows": result.rows, "seconds": round(result.seconds, 3),
                            "error": result.error}  # fmt: skip
    if isinstance(own, dict):
        line |= {k: v for k, v in own.items() if k not in line}
    elif own is not None:
        notes[result.job] = own
    if notes:
        line["notes"] = notes
    return json.dumps(line, default=str)


async def _run(settings: JobSettings, names: list[str], full: bool, as_lines: bool = False) -> int:
    url = effective_url(settings.warehouse)
    pool = await create_pool(url, timeout=settings.warehouse.connect_timeout)
    try:
        results = await run_jobs(JobContext(pool, settings, full=full), names or None)
    finally:
        await pool.close()
    for r in results:
        if as_lines:
            print(as_json(r), flush=True)
            continue
        status = "failed: " + r.error.splitlines()[0] if r.error else "ok"
        print(f"{r.job:<20} {r.rows:>8} rows  {r.seconds:6.2f} s  {status}")
    return 1 if any(r.error for r in results) else 0


async def _schedule(settings: JobSettings) -> int:
    from warehouse.jobs.scheduler import run_forever

    url = effective_url(settings.warehouse)
    pool = await create_pool(url, timeout=settings.warehouse.connect_timeout)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run_forever(pool, settings, url, stop)
    finally:
        await pool.close()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="memefans jobs", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run jobs once (all by default)")
    run.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(JOBS)}")
    run.add_argument("--full", action="store_true", help="recompute everything, not only what changed")
    run.add_argument("--json", action="store_true", help="one JSON object a job, each on its own line")
    sub.add_parser("schedule", help="run the jobs on their intervals until stopped")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    settings = JobSettings()
    try:
        if args.command == "run":
            unknown = [n for n in args.names if n not in JOBS]
            if unknown:
                print(f"memefans jobs: unknown job {unknown[0]!r}; known: {', '.join(JOBS)}", file=sys.stderr)
                return 2
            return asyncio.run(_run(settings, args.names, args.full, args.json))
        return asyncio.run(_schedule(settings))
    except WarehouseError as exc:
        print(f"memefans jobs: {exc}", file=sys.stderr)
        return 1
