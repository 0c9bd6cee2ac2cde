"""The jobs on a schedule: APScheduler with its job store in the warehouse's PostgreSQL, so that schedules
survive restarts. Each job coalesces missed runs into one, has a misfire grace time, and never runs twice
at once (max_instances=1). A restart keeps the stored schedules (next run times included) as they were.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from warehouse.jobs.runner import JobContext, run_jobs
from warehouse.jobs.settings import JobSettings

__all__ = ["SCHEDULE", "build_scheduler", "scheduled_run", "sync_url"]

log = logging.getLogger("memefans.jobs")

# job -> which interval setting runs it
SCHEDULE = {
    "creator_analytics": "analytics_every_s",
    "platform_analytics": "analytics_every_s",
    "funding": "anomalies_every_s",
    "anomalies": "anomalies_every_s",
    "reconcile": "reconcile_every_s",
}
_context: dict[str, JobContext] = {}  # the running scheduler's context; stored jobs refer to it by name


def sync_url(url: str) -> str:
    """The warehouse URL for SQLAlchemy's synchronous psycopg2 driver (the job store is synchronous)."""
    return "postgresql+psycopg2://" + url.partition("://")[2]


async def scheduled_run(name: str) -> None:
    """What the scheduler calls (by reference, so that it can be stored): one job, recorded in job_runs."""
    ctx = _context.get("default")
    if ctx is None:
        log.warning("job %s fired with no running context", name)
        return
    for result in await run_jobs(ctx, [name]):
        if result.error:
            log.warning("job failed", extra={"job": name, "error": result.error.splitlines()[0]})


def build_scheduler(pool: asyncpg.Pool, settings: JobSettings, url: str) -> AsyncIOScheduler:
    """A scheduler whose stored schedules are added only when missing (a restart keeps them)."""
    _context["default"] = JobContext(pool, settings)
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=sync_url(url), tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.misfire_grace_s},
        timezone="UTC",
    )
    return scheduler


def ensure_jobs(scheduler: AsyncIOScheduler, settings: JobSettings) -> list[str]:
    """Add every scheduled job that the store does not hold yet; returns the names added."""
    added = []
    for name, interval in SCHEDULE.items():
        if scheduler.get_job(name) is None:
            seconds: Any = getattr(settings, interval)
            scheduler.add_job(scheduled_run, "interval", seconds=int(seconds), id=name, name=name, args=[name])
            added.append(name)
    return added


async def run_forever(pool: asyncpg.Pool, settings: JobSettings, url: str, stop: asyncio.Event) -> None:
    scheduler = build_scheduler(pool, settings, url)
    scheduler.start()
    added = ensure_jobs(scheduler, settings)
    log.info("scheduler started", extra={"added": added, "jobs": [j.id for j in scheduler.get_jobs()]})
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
