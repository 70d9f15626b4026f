"""Probes the platform tests share: is a local service up, and a free port to serve on."""

from __future__ import annotations

import socket


def redis_up() -> bool:
    """Whether a Redis server answers on 127.0.0.1:6379."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
