"""An upload imported by a real job consumer: in-process (embedded) and `tandem worker` (Redis)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.platform.probes import free_port, redis_up

TANDEM = str(Path(sys.executable).with_name("tandem"))
CSV = b"Email Address,First Name,Lifecycle Stage\nzoe@shop.example.com,Zoe,MQL\nbroken,Bad,Lead\n"


def _wait_for(url: str) -> None:
    for _ in range(150):
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_an_uploaded_import_is_run_by_the_consumer(tmp_path, mode):
    if mode == "redis" and not redis_up():
        if os.environ.get("TANDEM_REQUIRE_REDIS"):
            pytest.fail("TANDEM_REQUIRE_REDIS is set but Redis does not answer")
        pytest.skip("no Redis server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env |= {"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_DEBUG": "true"}
    if mode == "redis":
        env["TANDEM_QUEUE_URL"] = "redis://127.0.0.1:6379/14"
    subprocess.run([TANDEM, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)
    make_user = (
        "from tandem.accounts.services import create_user; "
        "create_user(username='mia', password='e2e-pass-123', role='marketing')"
    )
    subprocess.run([TANDEM, "shell", "-c", make_user], env=env, check=True, timeout=60)
    port = free_port()
    procs = [
        subprocess.Popen(
            [TANDEM, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    if mode == "redis":
        # A separate consumer, as on another machine: the web process enqueues only.
        procs.append(
            subprocess.Popen(
                [TANDEM, "worker", "--workers", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz")
        session = requests.Session()
        token = _csrf(session, f"{base}/login/")
        session.post(
            f"{base}/login/",
            data={"username": "mia", "password": "e2e-pass-123", "csrfmiddlewaretoken": token},
            timeout=10,
        )
        token = _csrf(session, f"{base}/import/")
        response = session.post(
            f"{base}/import/",
            data={"kind": "contacts", "csrfmiddlewaretoken": token},
            files={"file": ("leads.csv", CSV, "text/csv")},
            timeout=30,
            allow_redirects=False,
        )
        assert response.status_code == 302, response.text[:500]
        job_url = base + response.headers["Location"]
        for _ in range(150):
            body = session.get(job_url, timeout=10).text
            if "Done" in body or "Failed" in body:
                break
            time.sleep(0.2)
        assert "Done" in body, body[:2000]
        figures = re.findall(r'<span class="figure">([\d,]+)</span>\s*(\w+)', body)
        assert figures == [("1", "created"), ("0", "updated"), ("1", "rejected")]
        contacts = session.get(f"{base}/contacts/?q=zoe", timeout=10).text
        assert "zoe@shop.example.com" in contacts
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
