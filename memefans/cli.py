"""The `memefans` console script.

Each subcommand is the composition root of one process (the warehouse tools, the local chain, the
indexer, the jobs, the dashboard, the API, the demo). This module only dispatches: it imports a
subcommand's module when that subcommand runs, so `memefans --help` stays fast and no stage is
loaded by another's command.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

__all__ = ["COMMANDS", "main"]

# name -> ("module:function", help). The function takes argv (after the name) and returns an exit code.
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("warehouse.cli:main", "the warehouse database: up, down, status, url, migrate"),
    "demo": ("memefans.demo:main", "run the whole platform"),
    "api": ("api.cli:main", "serve the HTTP API"),
    "build-program": ("programs.gift_pool.build:main", "rebuild the gift pool .so from C (--verify: compare bytes)"),
    "localnet": ("programs.localnet.cli:main", "run the local Solana chain (JSON-RPC + PubSub)"),
    "simulate": ("programs.localnet.simulate:main", "send realistic gift traffic to a chain"),
    "index": ("indexer.cli:main", "stream the program's transactions into the warehouse (backfill, then live)"),
    "decode": ("indexer.inspect:main", "decode one transaction file with an IDL and print it as JSON"),
    "jobs": ("warehouse.jobs.cli:main", "analytics and security jobs: run once, or on a schedule"),
    "dashboard": ("dashboards.cli:main", "serve the Dash app: creators' earnings, the admins' console"),
}


def _usage() -> str:
    width = max((len(name) for name in COMMANDS), default=4)
    lines = ["usage: memefans COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `memefans COMMAND --help` for a command's options."]
    return "\n".join(lines)


def _load(target: str) -> Callable[[list[str]], int]:
    module_name, _, func_name = target.partition(":")
    func: Callable[[list[str]], int] = getattr(importlib.import_module(module_name), func_name)
    return func


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"memefans: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    return _load(COMMANDS[name][0])(rest)


if __name__ == "__main__":
    raise SystemExit(main())
