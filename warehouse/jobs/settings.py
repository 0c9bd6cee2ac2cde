"""Settings of the jobs process (`memefans jobs`), read once from the environment (MEMEFANS_JOBS_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.jobs.rules import RuleSettings
from warehouse.settings import WarehouseSettings

__all__ = ["JobSettings"]


class JobSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEMEFANS_JOBS_", extra="ignore", frozen=True)

    rpc_url: str = Field(default="http://127.0.0.1:8899", description="JSON-RPC for funding lookups and reconciliation")
    webhook_url: str | None = Field(default=None, description="Where new anomalies are POSTed (unset: nowhere)")
    webhook_secret: str = Field(default="memefans-dev-secret", description="HMAC-SHA256 key of the webhook body")
    webhook_min_severity: str = Field(default="high", description="Deliver anomalies of this severity or above")
    webhook_attempts: int = Field(default=5, ge=1, le=20)
    funding_per_run: int = Field(default=200, ge=0, description="Wallets whose funder is looked up per run")
    max_lag_seconds: float = Field(default=120.0, gt=0, description="Indexer lag that raises an anomaly")
    analytics_every_s: int = Field(default=60, ge=1)
    anomalies_every_s: int = Field(default=30, ge=1)
    reconcile_every_s: int = Field(default=300, ge=1)
    misfire_grace_s: int = Field(default=60, ge=1)
    rules: RuleSettings = Field(default_factory=RuleSettings)
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
