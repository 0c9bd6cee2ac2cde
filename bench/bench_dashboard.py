"""Each dashboard page's data and render time with N gifts in the warehouse (default 1M; target < 1 s).

Gifts are generated straight into the warehouse (as bench_jobs does), the analytics jobs fill the
aggregates, then every page is built the way the server builds it for a request: its queries through
`warehouse/queries` (data), then the layout serialised to the JSON Dash sends (render). The creator page
is measured for the creator with the most gifts (the worst case) and for a median one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import flask
import plotly.utils

from bench.bench_jobs import free_port, generate
from dashboards.app import create_app
from dashboards.data import Warehouse
from dashboards.pages import admin, creator
from dashboards.settings import DashboardSettings
from warehouse.db import create_pool, upgrade
from warehouse.jobs.runner import JobContext, run_jobs
from warehouse.jobs.settings import JobSettings
from warehouse.server import EmbeddedServer

RUNS = 5  # builds of each page; the median is quoted


def timed(build: Callable[[], Any], runs: int = RUNS) -> tuple[float, float]:
    """Median seconds to build a layout (data) and to serialise it (render)."""
    data, render = [], []
    for _ in range(runs):
        started = time.perf_counter()
        layout = build()
        built = time.perf_counter()
        json.dumps(layout, cls=plotly.utils.PlotlyJSONEncoder)
        render.append(time.perf_counter() - built)
        data.append(built - started)
    return statistics.median(data), statistics.median(render)


async def prepare(url: str, gifts: int) -> None:
    await asyncio.to_thread(upgrade, url)
    started = time.perf_counter()
    await generate(url, gifts, 1_000, 50_000)
    pool = await create_pool(url, max_size=4)
    results = await run_jobs(JobContext(pool, JobSettings(), full=True), ["creator_analytics", "platform_analytics"])
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO anomalies (rule, severity, dedup_key, title, evidence) VALUES ($1, $2, $3, $4, '{}')",
            [(f"rule{i % 7}", ("high", "medium", "low")[i % 3], f"k{i}", f"anomaly {i}") for i in range(2_000)],
        )
    await pool.close()
    print(
        f"{gifts:,} gifts generated and aggregated in {time.perf_counter() - started:.1f} s "
        f"({', '.join(f'{r.job} {r.seconds:.1f} s' for r in results)})"
    )


class TimedWarehouse(Warehouse):
    """The dashboards' warehouse, noting how long each query took (seconds by query name)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.spent: dict[str, float] = {}

    def run(self, query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return super().run(query, *args, **kwargs)
        finally:
            name = getattr(query, "__name__", "query")
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - started


def measure(url: str) -> None:
    warehouse = TimedWarehouse(url)
    app = create_app(DashboardSettings(), database_url=url)
    try:
        creators = warehouse.run(_creators_by_gifts)
        worst, median = creators[0], creators[len(creators) // 2]
        with app.server.test_request_context("/creator"):
            flask.session.update(role="admin", user="bench")
            pages: list[tuple[str, Callable[[], Any]]] = [
                (f"creator page, top creator ({worst[1]:,} gifts)", lambda: creator.layout(warehouse, worst[0])),
                (f"creator page, median creator ({median[1]:,} gifts)", lambda: creator.layout(warehouse, median[0])),
                ("creator earnings chart, top creator, all days", lambda: chart(warehouse, worst[0])),
                ("admin anomalies (2,000 anomalies)", lambda: admin.anomalies_layout(warehouse)),
                ("admin indexer health", lambda: admin.health_layout(warehouse)),
                ("admin platform (KPIs, audit)", lambda: admin.platform_layout(warehouse)),
            ]
            for label, build in pages:
                warehouse.spent.clear()
                data, render = timed(build)
                print(
                    f"{label:<48} data {data * 1000:8.1f} ms   render {render * 1000:7.1f} ms   "
                    f"total {(data + render) * 1000:8.1f} ms {'(over 1 s)' if data + render > 1 else ''}"
                )
                slowest = sorted(warehouse.spent.items(), key=lambda kv: -kv[1])[:4]
                print("    slowest queries: " + ", ".join(f"{n} {t / RUNS * 1000:.1f} ms" for n, t in slowest))
    finally:
        warehouse.close()
        app.server.extensions["memefans_warehouse"].close()


def chart(warehouse: Warehouse, who: str) -> Any:
    """What the earnings chart's callback does: the daily aggregates of the period, resampled, as a figure."""
    import pandas as pd

    from dashboards.figures.earnings import earnings_figure, resample_earnings
    from warehouse.queries import dashboard as q

    daily = pd.DataFrame(warehouse.run(q.daily_earnings, who, date(2000, 1, 1), date(2100, 1, 1)))
    return earnings_figure(resample_earnings(daily[daily["mint"] == ""], "day"))


async def _creators_by_gifts(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT creator, count(*) AS n FROM gifts GROUP BY creator ORDER BY n DESC")
    return [(r["creator"], int(r["n"])) for r in rows]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gifts", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="memefans-bench-dash-"))
    os.chmod(root, 0o755)  # the server runs as its own user and must reach its folder
    server = EmbeddedServer(root=root / "pg", port=free_port())
    server.up()
    try:

        async def create() -> str:
            admin_conn = await asyncpg.connect(server.url("postgres"))
            name = f"bench_{uuid.uuid4().hex[:8]}"
            await admin_conn.execute(f'CREATE DATABASE "{name}"')
            await admin_conn.close()
            url = server.url(name)
            await prepare(url, args.gifts)
            return url

        measure(asyncio.run(create()))
    finally:
        server.down()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
