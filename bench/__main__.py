"""`python -m bench` (`make bench`): every benchmark in turn, then a markdown report.

Each benchmark runs in its own process (so that its peak memory is its own), its output shown as it
comes and kept; the report (bench/reports/bench-<time>.md, and the path printed at the end) holds the
machine it ran on, each benchmark's figures, wall time, peak RSS and exit status. A failing benchmark is
reported, never fatal: the suite always exits 0.

    python -m bench                       everything (the jobs at 1M and at 10M gifts: ~45 min on 2 cores)
    python -m bench --quick               smaller sizes (minutes), for a look, not for the record
    python -m bench --only jobs,api       some of them
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] | None = None  # arguments under --quick; None: skipped under --quick


PLAN = (
    Bench("program", "bench_program", (), ()),
    Bench("localnet", "bench_localnet", (), ()),
    Bench("indexer", "bench_indexer", (), ("--transactions", "4000", "--live-seconds", "8")),
    Bench("api", "bench_api", (), ()),
    Bench("jobs at 1M gifts", "bench_jobs", ("--gifts", "1000000"), ("--gifts", "100000")),
    Bench("jobs at 10M gifts", "bench_jobs", ("--gifts", "10000000"), None),
    Bench("dashboard at 1M gifts", "bench_dashboard", ("--gifts", "1000000"), ("--gifts", "100000")),
)


@dataclass
class Outcome:
    bench: Bench
    args: tuple[str, ...]
    output: str
    seconds: float
    peak_rss_mib: float
    exit_code: int


def machine() -> list[tuple[str, str]]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    rows = [
        ("CPU", cpu),
        ("cores available", str(len(os.sched_getaffinity(0)))),
        ("memory", memory),
        ("system", platform.platform()),
        ("Python", platform.python_version()),
        ("PostgreSQL", _postgres_version()),
    ]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE)
    rows.append(("commit", commit.stdout.strip() or "unknown"))
    return rows


def _postgres_version() -> str:
    try:
        from warehouse.server import bin_dir

        done = subprocess.run([str(bin_dir() / "postgres"), "--version"], capture_output=True, text=True)
        return done.stdout.strip() or "unknown"
    except Exception as exc:  # the report still says what it could
        return f"unknown ({exc})"


def run(bench: Bench, args: tuple[str, ...]) -> Outcome:
    print(f"\n## {bench.name}  (python -m bench.{bench.module} {' '.join(args)})\n", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", f"bench.{bench.module}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=HERE.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
    _, status, usage = os.wait4(process.pid, 0)  # the child's own peak memory, not the suite's
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    print(f"\n({bench.name}: {seconds:.1f} s, peak RSS {usage.ru_maxrss / 1024:,.0f} MiB)", flush=True)
    return Outcome(bench, args, "".join(lines), seconds, usage.ru_maxrss / 1024, process.returncode)


def report(outcomes: list[Outcome], quick: bool, started: datetime) -> str:
    out = [f"# MEMEFANS benchmarks, {started:%Y-%m-%d %H:%M} UTC", ""]
    if quick:
        out += ["**Quick run** (`--quick`): smaller sizes, not the figures of record.", ""]
    out += ["## Machine", "", "| | |", "|---|---|"]
    out += [f"| {key} | {value} |" for key, value in machine()]
    out += ["", "## Summary", "", "| benchmark | wall time | peak RSS (bench process) | exit |", "|---|---:|---:|---:|"]
    for o in outcomes:
        out.append(f"| {o.bench.name} | {o.seconds:,.1f} s | {o.peak_rss_mib:,.0f} MiB | {o.exit_code} |")
    out += [
        "",
        "Peak RSS is the benchmark's Python process; PostgreSQL's server processes are not in it.",
        "Each section below is the benchmark's own output: its figures, baselines and ratios.",
    ]
    for o in outcomes:
        out += ["", f"## {o.bench.name}", "", f"`python -m bench.{o.bench.module} {' '.join(o.args)}`".rstrip(), ""]
        out += ["```", o.output.rstrip(), "```"]
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    parser.add_argument("--only", default="", help="comma-separated modules or names, e.g. jobs,api")
    parser.add_argument("--out", type=Path, default=HERE / "reports", help="where the report goes")
    args = parser.parse_args(argv)
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    started = datetime.now(UTC)
    outcomes: list[Outcome] = []
    for bench in PLAN:
        if wanted and not any(w in bench.name or w in bench.module for w in wanted):
            continue
        bench_args = bench.quick if args.quick else bench.args
        if bench_args is None:
            print(f"\n## {bench.name}: skipped under --quick", flush=True)
            continue
        outcomes.append(run(bench, bench_args))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{started:%Y%m%d-%H%M%S}.md"
    path.write_text(report(outcomes, args.quick, started), encoding="utf-8")
    print(f"\nreport: {path}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
