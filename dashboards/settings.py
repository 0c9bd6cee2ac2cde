"""Settings of the dashboard process (`memefans dashboard`), read once from the environment (MEMEFANS_DASHBOARD_*)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.settings import WarehouseSettings

__all__ = ["DEV_ADMIN_PASSWORD", "DashboardSettings"]

DEV_ADMIN_PASSWORD = "memefans-admin"  # the demo's admin password; set MEMEFANS_DASHBOARD_ADMIN_PASSWORD_HASH elsewhere


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEMEFANS_DASHBOARD_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    admin_user: str = "admin"
    admin_password_hash: str | None = Field(
        default=None, description="scrypt$<salt>$<hex> (see dashboards.auth.hash_password); unset: the dev password"
    )
    secret_key: str = Field(default="memefans-dev-session-key", description="Signs session cookies and login links")
    link_ttl_s: int = Field(default=86_400, ge=60, description="How long a creator's one-time link is valid")
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)

    def password_hash(self) -> str:
        """The admin password's hash: the configured one, else the dev password's (for the demo only)."""
        from dashboards.auth import hash_password

        return self.admin_password_hash or hash_password(DEV_ADMIN_PASSWORD, "memefans-dev-salt")
