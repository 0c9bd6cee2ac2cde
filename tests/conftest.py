"""Shared fixtures: a real PostgreSQL for the whole run, and a fresh migrated database per test.

- `pg_admin_url` (session): the URL of the `postgres` database on the test server. The server is an
  embedded PostgreSQL started for this run in a temporary folder on a free port (never the user's
  `.memefans/`), or the server of `DATABASE_URL` when that is set.
- `template_db` (session): a database migrated to head once; tests clone it.
- `db_url` (function): a fresh database cloned from the template (CREATE DATABASE ... TEMPLATE), dropped after.
- `db_pool` (function): an asyncpg pool on `db_url`.
- `realdata` (session): the folder of real mainnet data the decoder tests read, `tests/fixtures/realdata`
  (where each file comes from: its PROVENANCE.md). It ships with the repository, so a missing folder fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from warehouse.db import connect, create_pool, upgrade
from warehouse.server import EmbeddedServer

# only a path: nothing is read until a test asks for it (collection hooks and the `realdata` fixture)
REALDATA = Path(__file__).resolve().parent / "fixtures" / "realdata"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    assert REALDATA.is_dir(), f"{REALDATA} is missing: it is part of the repository"
    return REALDATA


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield with_database(external, "postgres")
        return
    # mkdtemp gives a folder only we can enter; the server's user gets exactly this folder.
    root = Path(tempfile.mkdtemp(prefix="memefans-test-pg-"))
    server = EmbeddedServer(root=root, port=free_port())
    server.up()
    try:
        yield server.url("postgres")
    finally:
        server.down()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> str:
    name = f"memefans_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        conn = await connect(pg_admin_url)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    upgrade(with_database(pg_admin_url, name))
    return name


@pytest.fixture
async def db_url(pg_admin_url: str, template_db: str) -> AsyncIterator[str]:
    name = f"memefans_test_{uuid.uuid4().hex[:12]}"
    conn = await connect(pg_admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    finally:
        await conn.close()
    yield with_database(pg_admin_url, name)
    conn = await connect(pg_admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def db_pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(db_url)
    try:
        yield pool
    finally:
        await pool.close()
