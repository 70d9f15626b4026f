"""The job queue: embedded SQLite storage and the Redis storage used when scaled out."""

from __future__ import annotations

import os
import uuid

import pytest
from huey import RedisHuey, SqliteHuey

from tandem.jobs import build_huey
from tests.platform.probes import redis_up


def _round_trip(huey) -> int:
    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    result = add(2, 3)
    task = huey.dequeue()
    assert task is not None
    huey.execute(task)
    return result.get()


def test_default_is_sqlite_under_data_dir(tmp_path):
    huey = build_huey("", data_dir=tmp_path)
    assert isinstance(huey, SqliteHuey)
    assert (tmp_path / "queue.sqlite3").exists()
    assert _round_trip(huey) == 5


def test_unknown_scheme_is_refused(tmp_path):
    with pytest.raises(ValueError, match="TANDEM_QUEUE_URL"):
        build_huey("amqp://localhost", data_dir=tmp_path)


@pytest.mark.skipif(
    not redis_up() and not os.environ.get("TANDEM_REQUIRE_REDIS"), reason="no Redis server"
)
def test_redis_storage_round_trip(tmp_path):
    huey = build_huey("redis://127.0.0.1:6379/15", data_dir=tmp_path)
    assert isinstance(huey, RedisHuey)
    huey.name = f"tandem-test-{uuid.uuid4().hex}"  # isolate from parallel runs
    huey.storage = huey.create_storage()
    try:
        assert _round_trip(huey) == 5
    finally:
        huey.storage.flush_all()
