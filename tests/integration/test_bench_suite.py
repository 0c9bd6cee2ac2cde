"""`make bench` (`python -m bench`): each benchmark in its own process, and a markdown report of the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_suite_writes_a_report_with_the_machine_and_each_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "program", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.glob("bench-*.md")
    assert f"report: {path}" in done.stdout
    report = path.read_text()
    assert "| cores available |" in report and "| PostgreSQL | postgres (PostgreSQL) 18" in report
    assert "| program |" in report and "| 0 |" in report  # the summary row: it ran and exited 0
    # the benchmark's own figures are in its section: compute units per instruction and the .so size
    section = report.split("## program", 2)[-1]
    assert "gift_sol" in section and "CU" in section and "gift_pool.so:" in section
    assert "localnet" not in report.split("## Summary")[1].split("##")[0]  # only what was asked ran
