"""What every composition root does the same way for quiet, clear operations: HTTP client logs kept to
warnings, and a port already in use said in one line naming the port and how to choose another.

Servers bind their listening sockets through `bind` (or check with `ensure_free` when the server library
binds itself), so a port in use is a `PortInUse` naming the setting that moves it, never a traceback.
"""

from __future__ import annotations

import errno
import logging
import socket

__all__ = ["PortInUse", "bind", "ensure_free", "quiet_http_clients"]

# httpx and httpcore log every request at INFO ("HTTP Request: POST ..."): thousands of lines a minute
# for an indexer or the demo; only their warnings are news
_CHATTY = ("httpx", "httpcore", "hpack", "websockets")


def quiet_http_clients() -> None:
    """Keep the HTTP and websocket client libraries' per-request logs out of INFO (DEBUG still shows them)."""
    root = logging.getLogger().getEffectiveLevel()
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if root <= logging.DEBUG else logging.WARNING)


class PortInUse(OSError):
    """Another program listens on a port one of our servers wants; `how` says how to choose another."""

    def __init__(self, port: int, how: str, host: str = "127.0.0.1") -> None:
        super().__init__(errno.EADDRINUSE, f"port {port} is in use; choose another with {how}")
        self.port = port
        self.how = how
        self.host = host

    def __str__(self) -> str:
        return str(self.strerror)


def bind(host: str, port: int, how: str) -> socket.socket:
    """A TCP socket bound to (host, port), as servers bind (SO_REUSEADDR: a port in TIME_WAIT is free), not
    yet listening; PortInUse when another program holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(port, how, host) from exc
        raise
    return sock


def ensure_free(host: str, port: int, how: str) -> None:
    """PortInUse unless (host, port) can be bound now (for servers that bind their own socket)."""
    if port:
        bind(host, port, how).close()
