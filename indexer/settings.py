"""Settings of the indexer process (`memefans index`), read once from the environment by its composition root.

Every field is also a command-line option; the environment (MEMEFANS_INDEXER_*) gives the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from programs.gift_pool.client import PROGRAM_ID
from warehouse.settings import CHECKOUT_ROOT, WarehouseSettings

__all__ = ["IndexerSettings"]

DEFAULT_IDL = CHECKOUT_ROOT / "programs" / "gift_pool" / "idl.json"


class IndexerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEMEFANS_INDEXER_", extra="ignore", frozen=True)

    rpc_url: str = Field(default="http://127.0.0.1:8899", description="Solana JSON-RPC endpoint")
    ws_url: str | None = Field(default=None, description="PubSub endpoint (default: the RPC port + 1, ws://)")
    program_id: str = Field(default=str(PROGRAM_ID), description="The program to index")
    idl: Path = Field(default=DEFAULT_IDL, description="The program's Anchor IDL (0.30+ or legacy)")
    commitment: Literal["confirmed", "finalized"] = "confirmed"
    from_slot: int | None = Field(default=None, ge=0, description="Backfill no further back than this slot")
    backfill_only: bool = False
    batch_size: int = Field(default=100, ge=1, le=1000, description="getTransaction calls per JSON-RPC batch")
    concurrency: int = Field(default=4, ge=1, le=64, description="JSON-RPC requests in flight")
    finality_interval_s: float = Field(default=2.0, gt=0, description="How often rows are promoted to finalized")
    sweep_interval_s: float = Field(default=1.0, gt=0, description="How often live mode checks for gaps")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="Prometheus metrics port (0: off)")
    metrics_host: str = "127.0.0.1"
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)

    @property
    def effective_ws_url(self) -> str:
        if self.ws_url:
            return self.ws_url
        from urllib.parse import urlsplit

        parts = urlsplit(self.rpc_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        if parts.port is None:  # a hosted endpoint serves PubSub on the same host and port
            return f"{scheme}://{parts.netloc}{parts.path}"
        return f"{scheme}://{parts.hostname}:{parts.port + 1}{parts.path}"  # Solana's convention
