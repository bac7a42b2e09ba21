"""The crontab file says what the schedule says, in cron's own numbering."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from {{ cookiecutter.project_slug }}.schedule.crontab import render_crontab
from {{ cookiecutter.project_slug }}.schedule.jobs import SCHEDULE
from {{ cookiecutter.project_slug }}.schedule.timetable import Job

from ..support import PROJECT_DIR

CRONTAB = PROJECT_DIR / "crontab"


def test_the_crontab_file_matches_the_schedule():
    expected = render_crontab(schedule=SCHEDULE, time_zone=settings.TIME_ZONE)
    assert CRONTAB.read_text() == expected, "run: uv run manage.py crontab > crontab"


def test_the_crontab_command_prints_the_file():
    output = io.StringIO()
    call_command("crontab", stdout=output)
    assert output.getvalue() == CRONTAB.read_text()


def test_every_job_has_one_line_that_runs_it():
    lines = [line for line in CRONTAB.read_text().splitlines() if "runjob" in line]
    assert [line.split()[-1] for line in lines] == [job.name for job in SCHEDULE]


@pytest.mark.parametrize(
    ("cron", "line"),
    [
        ("0 4 * * sun", "0 4 * * 0"),
        ("0 4 * * mon-fri", "0 4 * * 1,2,3,4,5"),
        ("*/10 8-18 * * sat,sun", "*/10 8-18 * * 0,6"),
        ("30 2 1 */3 *", "30 2 1 */3 *"),
    ],
)
def test_day_names_become_cron_numbers(cron, line):
    job = Job(name="example", cron=cron, run=lambda: None)
    crontab = render_crontab(schedule=[job], time_zone="UTC")
    assert crontab.splitlines()[-1].startswith(f"{line} cd ")


def test_cron_cannot_fire_within_a_minute():
    job = Job(name="example", cron="* * * * *", second="*/5", run=lambda: None)
    with pytest.raises(ValueError, match="whole minutes"):
        render_crontab(schedule=[job], time_zone="UTC")
