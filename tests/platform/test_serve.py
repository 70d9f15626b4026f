"""`tandem serve` as a real process: it migrates nothing itself, serves pages, API and /healthz."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.platform.probes import free_port

TANDEM = str(Path(sys.executable).with_name("tandem"))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    return env | {"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_DEBUG": "true"}


def test_serve_answers_healthz_and_pages(tmp_path):
    env = _env(tmp_path)
    subprocess.run([TANDEM, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen(
        [TANDEM, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/healthz", timeout=2
                ) as response:
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "server never answered"
        assert body["status"] == "ok"
        assert body["database"] == "sqlite: ok"
        assert body["queue"] == "SqliteHuey: ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
            assert response.status == 200
            assert b"Sign in" in response.read()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/contacts")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=5)
        assert err.value.code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_production_start_refuses_default_secret(tmp_path):
    env = _env(tmp_path) | {"TANDEM_DEBUG": "false", "TANDEM_ALLOWED_HOSTS": "crm.example.com"}
    result = subprocess.run([TANDEM, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "TANDEM_SECRET_KEY" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_command_and_bad_port_exit_nonzero(tmp_path):
    env = _env(tmp_path)
    bad = subprocess.run(
        [TANDEM, "serve", "--port", "70000"], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode != 0
    assert "out of range" in bad.stderr


def test_bad_arguments_end_in_one_line(tmp_path):
    result = subprocess.run(
        [TANDEM, "import", "people", "x.csv"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "tandem import_data: error: argument kind: invalid choice: 'people' "
        "(choose from 'contacts', 'companies')"
    ]
