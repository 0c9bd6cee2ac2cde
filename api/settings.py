"""Settings of the API process."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.freshness import STALE_AFTER_SECONDS
from warehouse.settings import WarehouseSettings

__all__ = ["EXTENSION_ID", "ApiSettings"]

# The extension's ID, fixed by the public key in extension/manifest.json ("key"): Chromium derives it from the
# key's SHA-256, so the unpacked extension has this ID on every machine and CORS can name it exactly.
EXTENSION_ID = "onddoohmkncgnkajoimaacfpfjdddjei"


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEMEFANS_API_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Interface to listen on")
    port: int = Field(default=8000, ge=1, le=65535, description="Port to listen on")
    extension_origin: str = Field(
        default=f"chrome-extension://{EXTENSION_ID}",
        description="Origin allowed by CORS besides the Actions routes (a glob; `chrome-extension://*` allows any)",
    )
    rate_limit_per_minute: int = Field(default=6000, ge=1, description="Requests a client IP may make a minute")
    rate_limit_burst: int = Field(default=600, ge=1, description="Requests a client IP may make at once")
    cache_max_age: int = Field(default=5, ge=0, description="Cache-Control max-age of data responses, seconds")
    rpc_url: str = Field(default="http://127.0.0.1:8899", description="Solana JSON-RPC for Actions transactions")
    max_lag_seconds: float = Field(
        default=STALE_AFTER_SECONDS,
        gt=0,
        description="/v1/health says degraded when the indexer's lag now exceeds this many seconds",
    )
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
