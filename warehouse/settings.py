"""Settings of the warehouse: which PostgreSQL to use and where the embedded one keeps its data."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CHECKOUT_ROOT", "WarehouseSettings"]

# The checkout the package runs from (the project is installed editable); the data folder lives there.
CHECKOUT_ROOT = Path(__file__).resolve().parents[1]


class WarehouseSettings(BaseSettings):
    """Read from the environment once, in a process's composition root, and passed down."""

    model_config = SettingsConfigDict(env_prefix="MEMEFANS_", extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "MEMEFANS_DATABASE_URL"),
        description="Use this PostgreSQL instead of the embedded one",
    )
    db_port: int = Field(default=54329, ge=1, le=65535, description="Port of the embedded server")
    data_dir: Path = Field(default=CHECKOUT_ROOT / ".memefans", description="Where the embedded server lives")
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to wait for a connection")

    @property
    def pg_dir(self) -> Path:
        return self.data_dir.resolve() / "pg"
