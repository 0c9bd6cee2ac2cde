"""Connecting to the warehouse: the effective URL, asyncpg connections and pools, migrations, status.

Nothing here connects at import time. Every connection has a timeout, so an unreachable server is a
clear `DatabaseUnreachable` within the configured seconds, never a hang.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from warehouse.errors import DatabaseUnreachable, WarehouseError
from warehouse.server import EmbeddedServer
from warehouse.settings import CHECKOUT_ROOT, WarehouseSettings

__all__ = [
    "MIGRATIONS_DIR",
    "Status",
    "connect",
    "create_pool",
    "current_revision",
    "downgrade",
    "effective_url",
    "embedded_server",
    "head_revision",
    "ping",
    "read_status",
    "redact",
    "sqlalchemy_url",
    "upgrade",
]

MIGRATIONS_DIR = CHECKOUT_ROOT / "migrations"


def embedded_server(settings: WarehouseSettings) -> EmbeddedServer:
    return EmbeddedServer(root=settings.pg_dir, port=settings.db_port)


def effective_url(settings: WarehouseSettings) -> str:
    """DATABASE_URL when set, else the embedded server's URL (which must have been brought up)."""
    if settings.database_url:
        return settings.database_url
    server = embedded_server(settings)
    if not server.password_file.exists():
        raise WarehouseError("the embedded warehouse has never been started: run `memefans db up`")
    return server.url()


def redact(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc}" if user else netloc))


def sqlalchemy_url(url: str) -> str:
    """The same URL for SQLAlchemy with the asyncpg driver."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise WarehouseError(f"not a PostgreSQL URL: {redact(url)}")
    return f"postgresql+asyncpg://{rest}"


async def connect(url: str, *, timeout: float = 10.0) -> asyncpg.Connection:
    try:
        return await asyncio.wait_for(asyncpg.connect(url, timeout=timeout), timeout=timeout + 1)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {redact(url)} within {timeout:g} s: {type(exc).__name__}: {exc}"
        ) from exc


async def ping(url: str, *, timeout: float = 10.0) -> None:
    """Connect and disconnect: DatabaseUnreachable within `timeout` if the server does not answer."""
    conn = await connect(url, timeout=timeout)
    await conn.close()


async def create_pool(url: str, *, timeout: float = 10.0, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    try:
        pool = await asyncio.wait_for(
            asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=timeout),
            timeout=timeout + 1,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise DatabaseUnreachable(
            f"cannot connect to {redact(url)} within {timeout:g} s: {type(exc).__name__}: {exc}"
        ) from exc
    assert pool is not None
    return pool


# -- migrations (Alembic's env.py runs its own event loop, so these are synchronous) -----------------------


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    config.attributes["quiet"] = True
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_alembic_config(url), revision)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


async def current_revision(conn: asyncpg.Connection) -> str | None:
    exists = await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL")
    if not exists:
        return None
    value: str | None = await conn.fetchval("SELECT version_num FROM alembic_version")
    return value


@dataclass(frozen=True)
class Status:
    url: str  # redacted
    server_version: str
    revision: str | None
    head: str | None
    row_counts: dict[str, int]

    @property
    def at_head(self) -> bool:
        return self.revision is not None and self.revision == self.head

    def render(self) -> str:
        state = "at head" if self.at_head else f"head is {self.head}; run `memefans db migrate`"
        lines = [
            f"server:   {self.server_version}",
            f"url:      {self.url}",
            f"revision: {self.revision or '(none)'} ({state})",
            "rows:",
        ]
        width = max((len(name) for name in self.row_counts), default=0)
        lines += [f"  {name.ljust(width)}  {count}" for name, count in sorted(self.row_counts.items())]
        return "\n".join(lines)


async def read_status(url: str, *, timeout: float = 10.0) -> Status:
    conn = await connect(url, timeout=timeout)
    try:
        version = await conn.fetchval("SHOW server_version")
        revision = await current_revision(conn)
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        counts: dict[str, int] = {}
        for row in tables:
            name = row["tablename"]
            counts[name] = await conn.fetchval(f'SELECT count(*) FROM "{name}"')
    finally:
        await conn.close()
    return Status(redact(url), f"PostgreSQL {version}", revision, head_revision(), counts)
