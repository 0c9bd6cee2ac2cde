"""`memefans dashboard [--port 8050] [--link PLATFORM/HANDLE]`: serve the Dash app (its composition root), or
print a creator's one-time login link."""

from __future__ import annotations

import argparse
import sys

from dashboards.settings import DashboardSettings

__all__ = ["main"]


def main(argv: list[str]) -> int:
    settings = DashboardSettings()
    parser = argparse.ArgumentParser(prog="memefans dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    parser.add_argument("--link", metavar="CREATOR", help="print a one-time login link for this creator PDA and exit")
    args = parser.parse_args(argv)
    if args.link:
        from dashboards.auth import make_link_token

        token = make_link_token(settings.secret_key, args.link, settings.link_ttl_s)
        print(f"http://{args.host}:{args.port}/auth/link/{token}")
        return 0
    from dashboards.app import create_app
    from warehouse.errors import WarehouseError

    try:
        app = create_app(settings)
    except WarehouseError as exc:
        print(f"memefans dashboard: {exc}", file=sys.stderr)
        return 1
    app.run(host=args.host, port=args.port, debug=False)
    return 0
