"""`memefans demo`: bring the platform up. For now the warehouse: start it, migrate it, report its state."""

from __future__ import annotations

import argparse
import asyncio

from warehouse.cli import bring_up
from warehouse.db import read_status, upgrade
from warehouse.errors import WarehouseError
from warehouse.settings import WarehouseSettings

__all__ = ["main"]


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="memefans demo", description=__doc__).parse_args(argv)
    settings = WarehouseSettings()
    try:
        url = bring_up(settings)
        upgrade(url)
        print(asyncio.run(read_status(url, timeout=settings.connect_timeout)).render())
    except WarehouseError as exc:
        print(f"memefans demo: {exc}")
        return 1
    return 0
