"""The Huey instance: SQLite storage in embedded mode, Redis storage when scaled out."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey


def build_huey(queue_url: str, *, data_dir: Path, immediate: bool = False) -> Huey:
    """Build the queue named by TANDEM_QUEUE_URL (empty means SQLite under the data dir)."""
    url = queue_url.strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("tandem", url=url, immediate=immediate)
    if url.startswith("sqlite:///"):
        return SqliteHuey("tandem", filename=url.removeprefix("sqlite:///"), immediate=immediate)
    if url:
        raise ValueError(f"TANDEM_QUEUE_URL must start with redis:// or sqlite:///, got {url!r}")
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tandem", filename=str(data_dir / "queue.sqlite3"), immediate=immediate)


def huey() -> Huey:
    """Return the configured instance (defined by settings.HUEY)."""
    from huey.contrib.djhuey import HUEY

    return HUEY
