"""The systemd timers fire each job at exactly the schedule's times, as systemd reads them."""

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from {{ cookiecutter.project_slug }}.schedule.jobs import SCHEDULE
from {{ cookiecutter.project_slug }}.schedule.systemd import on_calendar, render_timers
from {{ cookiecutter.project_slug }}.schedule.timetable import Job

START = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)  # a Sunday

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze reads calendars")


def systemd_times(calendar, *, start, count):
    """The next `count` times after start at which systemd fires calendar."""
    result = subprocess.run(
        [
            SYSTEMD_ANALYZE,
            "calendar",
            f"--base-time=@{int(start.timestamp())}",
            f"--iterations={count}",
            calendar,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C", "TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )
    lines = [line for line in result.stdout.splitlines() if "elapse:" in line or "Iter." in line]
    return [
        datetime.strptime(line.split(": ", 1)[1], "%a %Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        for line in lines
    ]


def assert_fires_at_the_timetables_times(job):
    times = systemd_times(
        on_calendar(timetable=job.timetable, time_zone="UTC"), start=START, count=100
    )
    assert len(times) == 100
    previous = job.timetable.latest(START)
    for moment in times:
        assert job.timetable.latest(moment) == moment, f"{job.name} fires at {moment}"
        assert job.timetable.latest(moment - timedelta(seconds=1)) == previous, (
            f"{job.name} skips a time before {moment}"
        )
        previous = moment


@needs_systemd
@pytest.mark.parametrize("job", SCHEDULE, ids=lambda job: job.name)
def test_each_timer_fires_at_exactly_its_jobs_times(job):
    assert_fires_at_the_timetables_times(job)


@needs_systemd
@pytest.mark.parametrize(
    "cron", ["0 4 * * sun", "0 4 * * mon-fri", "*/10 8-18 * * sat,sun", "30 2 1 */3 *"]
)
def test_timetables_of_every_shape_become_the_same_calendar(cron):
    assert_fires_at_the_timetables_times(Job(name="example", cron=cron, run=lambda: None))


def test_every_job_has_one_timer_that_starts_runjob_for_it():
    timers = render_timers(schedule=SCHEDULE, time_zone=settings.TIME_ZONE)
    prefix = "{{ cookiecutter.project_slug }}"
    assert sorted(timers) == sorted(f"{prefix}-{job.name}.timer" for job in SCHEDULE)
    for job in SCHEDULE:
        assert f"Unit={prefix}-job@{job.name}.service\n" in timers[f"{prefix}-{job.name}.timer"]


def test_the_command_writes_the_timers_and_names_them(tmp_path):
    output = io.StringIO()
    call_command("systemd_timers", tmp_path, stdout=output)
    timers = render_timers(schedule=SCHEDULE, time_zone=settings.TIME_ZONE)
    assert output.getvalue().split() == list(timers)
    assert {path.name: path.read_text() for path in tmp_path.iterdir()} == timers
