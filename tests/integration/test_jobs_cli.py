"""`memefans jobs run` as a user runs it: one line per job, an exit code that says whether all went well."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg

from warehouse.jobs.runner import JOBS


def jobs(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "MEMEFANS_JOBS_RPC_URL": "http://127.0.0.1:9"}
    command = [sys.executable, "-m", "memefans.cli", "jobs", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_jobs_run_prints_each_job_and_records_it(db_url: str, db_pool: asyncpg.Pool) -> None:
    done = jobs(db_url, "run", "creator_analytics", "platform_analytics", "anomalies")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["creator_analytics", "platform_analytics", "anomalies"]
    assert all(line.endswith("ok") for line in lines)
    async with db_pool.acquire() as conn:
        runs = await conn.fetch("SELECT job, error FROM job_runs ORDER BY id")
    assert [(r["job"], r["error"]) for r in runs] == [
        (j, None) for j in ("creator_analytics", "platform_analytics", "anomalies")
    ]


async def test_a_failing_job_gives_exit_1_and_an_unknown_one_exit_2(db_url: str, db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:  # a creator, so that the funding job must reach the (absent) cluster
        await conn.execute(
            "INSERT INTO gifts (signature, ix_path, event_index, slot, block_time, commitment, creator, fan, amount, "
            "fee) VALUES ('s', '0', 0, 1, now(), 'finalized', 'C', 'F', 10, 0)"
        )
    failed = jobs(db_url, "run", "funding", "anomalies")
    assert failed.returncode == 1
    first, second = failed.stdout.splitlines()
    assert first.startswith("funding") and "failed:" in first
    assert second.startswith("anomalies") and second.endswith("ok")
    unknown = jobs(db_url, "run", "nope")
    assert unknown.returncode == 2 and "unknown job 'nope'" in unknown.stderr
    assert set(JOBS) <= set(unknown.stderr.replace(",", " ").split())


async def test_jobs_schedule_runs_jobs_on_their_intervals_and_stops_on_sigterm(
    db_url: str, db_pool: asyncpg.Pool
) -> None:
    import asyncio
    import signal

    env = {**os.environ, "DATABASE_URL": db_url, "MEMEFANS_JOBS_RPC_URL": "http://127.0.0.1:9",
           "MEMEFANS_JOBS_ANOMALIES_EVERY_S": "1", "MEMEFANS_JOBS_ANALYTICS_EVERY_S": "1"}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "memefans.cli", "jobs", "schedule", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        runs: list[str] = []
        for _ in range(150):
            async with db_pool.acquire() as conn:
                runs = [r["job"] for r in await conn.fetch("SELECT job FROM job_runs WHERE finished_at IS NOT NULL")]
            if runs.count("anomalies") >= 2 and "creator_analytics" in runs:
                break
            await asyncio.sleep(0.1)
        assert runs.count("anomalies") >= 2, runs  # it ran, and ran again a second later
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM apscheduler_jobs") == 5
