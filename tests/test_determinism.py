"""The same answers give the same bytes, whatever the date, the hour and the time zone."""

import os
import subprocess
import sys

import pytest

from .conftest import TEMPLATE_DIR

ANSWERS = [
    "project_name=Same Site 🚀",
    "database=postgresql",
    "public_site_caching=yes",
    "task_queue=database",
]

# Loaded by every Python started with it on PYTHONPATH: moves time.time() and
# datetime's now() and today() to FAKE_NOW, as faketime would.
SITECUSTOMIZE = """
import datetime, os, time

_shift = datetime.datetime.fromisoformat(os.environ["FAKE_NOW"]).timestamp() - time.time()
_time, _time_ns = time.time, time.time_ns
time.time = lambda: _time() + _shift
time.time_ns = lambda: _time_ns() + int(_shift * 1e9)


class FakeDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return cls.fromtimestamp(time.time(), tz)

    @classmethod
    def utcnow(cls):
        return cls.now(datetime.UTC).replace(tzinfo=None)

    @classmethod
    def today(cls):
        return cls.now()


class FakeDate(datetime.date):
    @classmethod
    def today(cls):
        return FakeDatetime.now().date()


datetime.datetime, datetime.date = FakeDatetime, FakeDate
"""

# Half a minute before the end of a leap day far from today, in a zone 14 hours ahead
# of UTC (where it is still 29 February 10:00 in UTC).
MOVED = {"FAKE_NOW": "2032-02-29T23:59:30+14:00", "TZ": "Pacific/Kiritimati"}


def contents(path):
    """Every file with its bytes and mode; .env holds a fresh random key by design."""
    return {
        str(file.relative_to(path)): (file.read_bytes(), file.stat().st_mode)
        for file in sorted(path.rglob("*"))
        if file.is_file() and file.name != ".env"
    }


@pytest.fixture
def moved_clock(tmp_path):
    """Environment variables that move the clock and the time zone of a Python process."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {**MOVED, "PYTHONPATH": str(shim)}


def cookiecutter(out, *answers, **env):
    command = [sys.executable, "-m", "cookiecutter", str(TEMPLATE_DIR), "--no-input"]
    result = subprocess.run(
        [*command, "-o", out, *ANSWERS, *answers],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (project,) = out.iterdir()
    return project


def test_the_moved_clock_is_really_moved(moved_clock):
    script = "import datetime, time; print(datetime.datetime.now().date(), time.strftime('%Z'))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **moved_clock},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["2032-02-29", "+14"]


@pytest.mark.parametrize("scheduler", ["cron", "clock"])
def test_a_bake_on_another_day_in_another_time_zone_is_byte_identical(
    tmp_path, moved_clock, scheduler
):
    today = cookiecutter(tmp_path / "today", f"scheduler={scheduler}", TZ="UTC")
    moved = cookiecutter(tmp_path / "moved", f"scheduler={scheduler}", **moved_clock)
    assert contents(moved) == contents(today)
