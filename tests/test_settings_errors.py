"""A bad setting stops every entry point before it starts, with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[1] / "server"
GUNICORN = Path(sys.executable).with_name("gunicorn")


def start(command: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANALYTICS_DATA_DIR": str(tmp_path), "PORT": "8000", **variables}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        command, cwd=SERVER, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WEB_THREADS", "-1", "WEB_THREADS must be >= 1, got -1"),
        ("WEB_WORKERS", "two", "WEB_WORKERS must be an integer, got 'two'"),
        ("PORT", "70000", "PORT must be <= 65535, got 70000"),
        ("SHIP_BATCH_SIZE", "abc", "SHIP_BATCH_SIZE must be an integer, got 'abc'"),
        ("SPOOL_SYNCHRONOUS", "OFF", "SPOOL_SYNCHRONOUS must be one of FULL, NORMAL, got 'OFF'"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be a boolean"),
    ],
)
def test_manage_py_check_names_the_bad_variable_in_one_line(tmp_path, variable, value, message):
    result = start([sys.executable, "manage.py", "check"], tmp_path, **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Invalid setting: {message}"), result.stderr


def test_gunicorn_stops_on_a_bad_setting_with_one_line(tmp_path):
    result = start(
        [str(GUNICORN), "config.wsgi:application", "-c", "config/gunicorn.conf.py"], tmp_path, WEB_THREADS="0"
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["Invalid setting: WEB_THREADS must be >= 1, got 0"]


def test_good_settings_pass_check(tmp_path):
    result = start(
        [sys.executable, "manage.py", "check"], tmp_path, WEB_THREADS="4", SPOOL_SYNCHRONOUS="normal"
    )
    assert result.returncode == 0, result.stderr
