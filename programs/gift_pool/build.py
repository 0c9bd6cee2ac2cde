"""Build the gift pool program from C source: clang (BPF object) then postlink.py (SBPFv0 shared object).

    python -m programs.gift_pool.build            # writes programs/gift_pool/gift_pool.so
    python -m programs.gift_pool.build --verify   # rebuilds in a temp dir, fails unless byte-identical
    python -m programs.gift_pool.build --out X    # writes X instead

The build is reproducible: one translation unit, no debug info, and the post-linker keeps neither
symbol names of the object nor paths nor timestamps, so the same source and clang give the same bytes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from programs.gift_pool.postlink import PostLinkError, link

__all__ = ["CFLAGS", "SOURCE", "BuildError", "build", "compile_object", "main"]

PROGRAM_DIR = Path(__file__).resolve().parent
SOURCE = PROGRAM_DIR / "src" / "gift_pool.c"
SO_PATH = PROGRAM_DIR / "gift_pool.so"

# v2 at most: v3 emits 32-bit jumps and ALU ops SBPF v0 lacks. -fno-builtin keeps clang from assuming
# a C library; -ffreestanding from including one.
CFLAGS = ["-target", "bpfel", "-mcpu=v2", "-O2", "-fno-builtin", "-ffreestanding", "-Wall", "-Werror", "-std=c11"]


class BuildError(Exception):
    """The program could not be built (missing compiler, compile or link error)."""


def _clang() -> str:
    for name in ("clang", "clang-14"):
        found = shutil.which(name)
        if found:
            return found
    raise BuildError("clang is not installed (Debian: apt-get install clang lld)")


def compile_object(source: Path, obj: Path) -> None:
    """clang -c one translation unit into a relocatable BPF object."""
    # Relative paths and a fixed working dir keep the build independent of where the checkout lives.
    cmd = [_clang(), *CFLAGS, "-c", source.name, "-o", str(obj)]
    proc = subprocess.run(cmd, cwd=source.parent, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildError(f"clang failed ({proc.returncode}):\n{proc.stderr}")


def build(out: Path, source: Path = SOURCE) -> bytes:
    """Builds the program into `out` and returns its bytes."""
    with tempfile.TemporaryDirectory(prefix="gift-pool-build-") as tmp:
        obj = Path(tmp) / "gift_pool.o"
        compile_object(source, obj)
        try:
            so = link(obj.read_bytes())
        except PostLinkError as exc:
            raise BuildError(f"post-link failed: {exc}") from exc
    out.write_bytes(so)
    return so


def _first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build-program", description=__doc__.split("\n")[0])
    parser.add_argument("--verify", action="store_true", help="rebuild and compare with the committed .so")
    parser.add_argument("--out", type=Path, default=SO_PATH, help="where to write the .so")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.verify:
            with tempfile.TemporaryDirectory(prefix="gift-pool-verify-") as tmp:
                fresh = build(Path(tmp) / "gift_pool.so")
            committed = args.out.read_bytes() if args.out.exists() else b""
            if fresh != committed:
                at = _first_difference(fresh, committed)
                print(
                    f"build-program: MISMATCH: {args.out} ({len(committed)} bytes) differs from a fresh build "
                    f"({len(fresh)} bytes) at byte {at}. Rebuild with `make program` and commit the .so.",
                    file=sys.stderr,
                )
                return 1
            print(f"build-program: OK: {args.out.name} is byte-identical to a fresh build ({len(fresh)} bytes)")
        else:
            so = build(args.out)
            print(f"build-program: wrote {args.out} ({len(so)} bytes) in {time.perf_counter() - started:.2f}s")
    except (BuildError, OSError) as exc:
        print(f"build-program: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
