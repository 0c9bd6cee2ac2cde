"""The warehouse package's one exception base, and the errors its callers act on."""

from __future__ import annotations

__all__ = ["DatabaseUnreachable", "PortInUse", "ServerError", "WarehouseError"]


class WarehouseError(Exception):
    """Base of every error the warehouse package raises on purpose."""


class ServerError(WarehouseError):
    """The embedded PostgreSQL server could not be set up, started or stopped."""


class PortInUse(ServerError):
    """Another process listens on the port the embedded server wants."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use by another program; "
            f"stop it, or choose another port with MEMEFANS_DB_PORT=<port> (for example {port + 1})"
        )
        self.port = port


class DatabaseUnreachable(WarehouseError):
    """No answer from the database at the configured URL within the connect timeout."""
