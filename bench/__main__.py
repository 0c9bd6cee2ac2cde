"""`python -m bench` (`make bench`): run every bench_*.py module in turn; a failing benchmark is reported, not fatal."""

from __future__ import annotations

import pkgutil
import runpy
import sys
import time
import traceback
from pathlib import Path


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    for name in names:
        print(f"\n## {name}\n", flush=True)
        started = time.perf_counter()
        try:
            runpy.run_module(f"bench.{name}", run_name="__main__")
        except Exception:
            traceback.print_exc(file=sys.stdout)
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                print(f"{name} exited with {exit_.code}")
        print(f"\n({name}: {time.perf_counter() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
