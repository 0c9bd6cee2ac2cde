"""`memefans api [--host H] [--port P]`: serve the HTTP API with uvicorn (the API's composition root)."""

from __future__ import annotations

import argparse
import gc

import uvicorn

from api.app import create_app
from api.settings import ApiSettings

__all__ = ["main"]


def main(argv: list[str]) -> int:
    settings = ApiSettings()
    parser = argparse.ArgumentParser(prog="memefans api", description="Serve the MEMEFANS HTTP API.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args(argv)
    app = create_app(settings)
    # everything imported so far lives as long as the process: keep it out of the collector's full passes,
    # which otherwise walk every module object and pause requests (a tail-latency cost, not a throughput one)
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0
