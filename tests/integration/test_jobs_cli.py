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


async def test_jobs_run_json_prints_one_object_a_job_with_the_reconciliation_verdict(
    db_url: str, db_pool: asyncpg.Pool
) -> None:
    import asyncio
    import json

    from indexer_harness import local_chain, simulate_and_index

    async with local_chain(slot_ms=40, finality_depth=4) as net:
        truth = await simulate_and_index(net, db_url, db_pool, seed=71, incidents=False, duration=1.5)
        env = {**os.environ, "DATABASE_URL": db_url, "MEMEFANS_JOBS_RPC_URL": net.rpc_url}

        async def run_json(*names: str) -> tuple[int, list[dict[str, object]]]:
            # the chain serves from this event loop: the command runs beside it, not blocking it
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "memefans.cli", "jobs", "run", *names, "--json", env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(process.communicate(), 120)
            assert process.returncode is not None, err
            return process.returncode, [json.loads(line) for line in out.decode().splitlines()]

        code, lines = await run_json("creator_analytics", "reconcile")
        assert code == 0, lines
        analytics, reconcile = lines
        assert {k: analytics[k] for k in ("job", "error")} == {"job": "creator_analytics", "error": None}
        assert analytics["rows"] > 0 and analytics["notes"] == {"creators": len(truth["creators"])}
        assert (reconcile["job"], reconcile["verdict"], reconcile["error"]) == ("reconcile", "match", None)
        vaults = len(truth["creators"]) + sum(
            t["gift_count"] > 0 for c in truth["creators"] for t in c["tokens"].values()
        )
        assert reconcile["vaults"] == reconcile["rows"] == vaults and reconcile["mismatches"] == []
        assert isinstance(reconcile["slot"], int) and reconcile["slot"] >= net.chain.finalized_slot - 100
        assert isinstance(reconcile["seconds"], float) and "reason" not in reconcile

        async with db_pool.acquire() as conn:  # without the indexer's cursor nothing proves the warehouse complete
            await conn.execute("DELETE FROM cursors")
        code, (skipped,) = await run_json("reconcile")
        assert code == 0
        assert (skipped["verdict"], skipped["reason"]) == ("skipped", "the indexer has not written a cursor yet")
        assert skipped["vaults"] == 0 and skipped["mismatches"] == [] and skipped["slot"] >= reconcile["slot"]
