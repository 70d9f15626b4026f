"""`tandem source create NAME [--origin URL]...` (CONTRACT.md): prints the write key."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tandem.marketing.models import Source
from tandem.marketing.services.sources import source_for_key

TANDEM = str(Path(sys.executable).with_name("tandem"))


@pytest.mark.django_db
def test_create_prints_a_working_write_key():
    out = io.StringIO()

    call_command(
        "source",
        "create",
        "Marketing site",
        "--origin",
        "https://www.example.com",
        "--origin",
        "HTTP://Localhost:3000",
        stdout=out,
    )

    raw = out.getvalue().strip()
    assert raw.startswith("tdmw_") and "\n" not in raw
    source = source_for_key(raw=raw)
    assert source is not None and source.name == "Marketing site"
    assert source.origins == ["https://www.example.com", "http://localhost:3000"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["Site", "--origin", "https://x.example/path"],
            "'https://x.example/path' is not an origin",
        ),
        (["Site", "--origin", "nonsense"], "'nonsense' is not an origin"),
        (["   "], "name is required"),
        (["Taken"], "a source called 'Taken' already exists"),
    ],
)
def test_bad_input_is_a_one_line_error(args, message):
    Source.objects.create(name="Taken", key_prefix="tdmw_x", key_digest="0" * 64)

    with pytest.raises(CommandError, match=message):
        call_command("source", "create", *args)

    assert Source.objects.count() == 1


def test_the_console_script_exits_non_zero_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    env |= {"TANDEM_DATA_DIR": str(tmp_path), "TANDEM_DEBUG": "true"}
    subprocess.run([TANDEM, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)

    ok = subprocess.run(
        [TANDEM, "source", "create", "Site", "--origin", "https://www.example.com"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    bad = subprocess.run(
        [TANDEM, "source", "create", "Site"], env=env, capture_output=True, text=True, timeout=60
    )

    assert ok.returncode == 0 and ok.stdout.startswith("tdmw_")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines() == [
        "CommandError: a source called 'Site' already exists"
    ]
