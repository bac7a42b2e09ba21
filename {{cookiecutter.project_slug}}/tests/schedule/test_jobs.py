"""The schedule: its timetables, runjob for every job, and the guard in the database."""

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

from {{ cookiecutter.project_slug }}.schedule.jobs import SCHEDULE
from {{ cookiecutter.project_slug }}.schedule.models import LastRun
from {{ cookiecutter.project_slug }}.schedule.runner import run_job
from {{ cookiecutter.project_slug }}.schedule.timetable import Job, parse

from ..support import PROJECT_DIR

SUNDAY = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def at(day, hour, minute, second=0):
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def test_job_names_are_unique():
    names = [job.name for job in SCHEDULE]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("cron", "now", "latest"),
    [
        ("17 3 * * *", at(29, 12, 0), at(29, 3, 17)),
        ("17 3 * * *", at(29, 3, 16, 59), at(28, 3, 17)),
        ("17 3 * * *", at(29, 3, 17), at(29, 3, 17)),
        ("*/15 * * * *", at(29, 12, 44, 59), at(29, 12, 30)),
        ("0 9-17/4 * * *", at(29, 20, 0), at(29, 17, 0)),
        ("0 4 * * sun", at(28, 23, 0), at(22, 4, 0)),  # the 28th is a Saturday
        ("0 4 * * mon-fri", SUNDAY, at(27, 4, 0)),
        ("0 4 * * sat,sun", SUNDAY, at(29, 4, 0)),
        ("30 2 1 * *", SUNDAY, at(1, 2, 30)),
        ("0 0 29 2 *", SUNDAY, datetime(2024, 2, 29, tzinfo=UTC)),
    ],
)
def test_the_latest_scheduled_time(cron, now, latest):
    assert parse(cron=cron).latest(now) == latest


def test_seconds_are_for_the_clock():
    assert parse(cron="* * * * *", second="*/10").latest(at(29, 12, 0, 59)) == at(29, 12, 0, 50)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 4 * * 0", "write day names"),
        ("0 4 * * 1-5", "write day names"),
        ("0 4 * * fri-mon", "a range runs from sun towards sat"),
        ("0 4 * * sat-sun", "a range runs from sun towards sat"),
        ("0 4 1 * mon", "restrict the day of the month or of the week"),
        ("0 4 * *", "write five fields"),
        ("60 * * * *", "Bad minute"),
        ("0 0 32 * *", "Bad day-of-month"),
    ],
)
def test_timetables_that_schedulers_read_differently_are_refused(cron, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse(cron=cron)


@pytest.mark.parametrize("cron", ["0 0 30 2 *", "0 0 31 2,4,6,9,11 *", "15 4 31 2-4/2 *"])
def test_a_timetable_that_never_fires_is_refused_naming_its_job(cron):
    with pytest.raises(ValueError) as refused:
        Job(name="never_runs", cron=cron, run=lambda: None)
    assert str(refused.value) == (
        f"job 'never_runs': timetable {cron!r} never fires: no month it names has that day"
    )


# The nights clocks change in London in 2026: forward at 01:00 GMT on 29 March,
# back at 02:00 BST (01:00 GMT) on 25 October. Both nights, 22:00 to 04:00 UTC.
NIGHTS = {
    "spring": datetime(2026, 3, 28, 22, 0, tzinfo=UTC),
    "autumn": datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
}
EVERY_TEN_MINUTES = [timedelta(minutes=10 * n) for n in range(6 * 6)]

# cron's rule (Debian's, which cronsim follows): a fixed-time job runs once a night,
# right after the change if its time was skipped; any other job keeps to the clock
# on the wall, so */10 fires every ten real minutes through both nights.
DAYLIGHT_SAVING = [
    ("*/10 * * * *", "spring", EVERY_TEN_MINUTES),
    ("*/10 * * * *", "autumn", EVERY_TEN_MINUTES),
    ("30 1 * * *", "spring", [timedelta(hours=3)]),  # 01:30 never comes: 02:00 BST
    ("30 1 * * *", "autumn", [timedelta(hours=2, minutes=30)]),  # 01:30 BST, not GMT
    ("0 * * * *", "autumn", [timedelta(hours=n) for n in range(6)]),
    ("0 * * * *", "spring", [timedelta(hours=n) for n in range(6)]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("cron", "night", "runs"), DAYLIGHT_SAVING)
def test_runjob_follows_crons_daylight_saving_rule(settings, cron, night, runs):
    """runjob called every minute through the night, as a platform's scheduler may."""
    settings.TIME_ZONE = "Europe/London"
    job = Job(name="tonight", cron=cron, run=lambda: None)
    start = NIGHTS[night]
    run_job(job=job, now=start - timedelta(minutes=1))  # it ran until the night began
    ran = [
        moment - start
        for moment in (start + timedelta(minutes=n) for n in range(6 * 60))
        if run_job(job=job, now=moment)
    ]
    assert ran == runs


@pytest.mark.django_db
@pytest.mark.parametrize("job", SCHEDULE, ids=lambda job: job.name)
def test_runjob_runs_every_job(job):
    call_command("runjob", job.name)
    last = LastRun.objects.get(job=job.name)
    assert last.scheduled_for == job.timetable.latest(timezone.now())


def described(cron):
    """A timetable in the README's words: "03:17 every day", "every 10 minutes"."""
    if every := re.fullmatch(r"\*/(\d+) \* \* \* \*", cron):
        return f"every {every[1]} minutes"
    if daily := re.fullmatch(r"(\d+) (\d+) \* \* \*", cron):
        return f"{int(daily[2]):02}:{int(daily[1]):02} every day"
    raise AssertionError(f"no words for {cron!r}: teach described() how README.md says it")


def test_the_readme_lists_every_job_at_its_times(settings):
    readme = (PROJECT_DIR / "README.md").read_text()
    header = re.search(r"^\| job \| when \((.+)\) \| what it does \|$", readme, re.MULTILINE)
    assert header[1] == settings.TIME_ZONE
    table = readme[header.end() :].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", table, re.MULTILINE)
    assert rows == [(job.name, described(job.cron)) for job in SCHEDULE]


@pytest.mark.django_db
def test_runjob_refuses_an_unknown_job():
    with pytest.raises(CommandError, match="No job named 'nothing'"):
        call_command("runjob", "nothing")


@pytest.mark.django_db
def test_the_clearsessions_job_deletes_expired_sessions_only():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="live", session_data="", expire_date=now + timedelta(1))
    (job,) = (job for job in SCHEDULE if job.name == "clearsessions")
    job.run()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


@pytest.mark.django_db
def test_a_job_runs_once_per_scheduled_time():
    runs = []
    job = Job(name="hourly", cron="0 * * * *", run=lambda: runs.append(1))
    assert run_job(job=job, now=at(29, 12, 5))
    assert not run_job(job=job, now=at(29, 12, 59)), "same scheduled time, 12:00"
    assert run_job(job=job, now=at(29, 13, 0))
    assert not run_job(job=job, now=at(29, 12, 30)), "an earlier time than one already run"
    assert run_job(job=job, now=at(29, 13, 10), force=True), "a person insists"
    assert len(runs) == 3


@pytest.mark.django_db
def test_a_clock_back_from_downtime_runs_a_missed_job_once():
    runs = []
    job = Job(name="every_minute", cron="* * * * *", run=lambda: runs.append(1))
    assert run_job(job=job, now=at(29, 9, 0))
    assert run_job(job=job, now=at(29, 12, 0, 30)), "three hours later: the latest time"
    assert not run_job(job=job, now=at(29, 12, 0, 50))
    assert len(runs) == 2
    assert LastRun.objects.get(job="every_minute").scheduled_for == at(29, 12, 0)


def test_two_cron_hosts_run_a_job_once(live_database_url):
    """Two runjob processes started together, as two hosts' cron would: one runs it."""
    env = {**os.environ, "DATABASE_URL": live_database_url}
    command = [sys.executable, "manage.py", "runjob", "clearsessions"]
    hosts = [
        subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    logs = "".join(host.communicate(timeout=60)[1] for host in hosts)
    assert [host.returncode for host in hosts] == [0, 0], logs
    assert logs.count("clearsessions already ran for") == 1, logs
    assert LastRun.objects.get(job="clearsessions").scheduled_for < timezone.now()


@pytest.mark.django_db
def test_the_admin_shows_when_each_job_last_ran(admin_client):
    call_command("runjob", "clearsessions")
    response = admin_client.get("/admin/schedule/lastrun/")
    assert response.status_code == 200
    assert b"clearsessions" in response.content
