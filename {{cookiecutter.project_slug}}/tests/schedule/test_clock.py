"""The clock in real {{ "workers" if cookiecutter.task_queue == "database" else "processes" }}: on time, once across clocks, stopped by SIGTERM."""

import itertools
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
{%- if cookiecutter.task_queue == "database" %}
from django.tasks import TaskResultStatus
{%- endif %}
from django.utils import timezone
{%- if cookiecutter.task_queue == "database" %}
from django_tasks_db.models import DBTaskResult
{%- endif %}

from {{ cookiecutter.project_slug }}.schedule.clock import trigger_for
from {{ cookiecutter.project_slug }}.schedule.jobs import SCHEDULE
from {{ cookiecutter.project_slug }}.schedule.models import LastRun
from {{ cookiecutter.project_slug }}.schedule.timetable import Job

{% if cookiecutter.task_queue == "database" -%}
from ..queue.tasks import sleep_then_return
{% endif -%}
from ..support import PROJECT_DIR
from .test_jobs import DAYLIGHT_SAVING, NIGHTS

# A clock over a schedule of one job, "tick", due every second; each run prints
# "tick started at <Unix time>", then takes TICK_SECONDS.
{%- if cookiecutter.task_queue == "database" %} The clock is a worker's,
# built as `manage.py worker` builds it, with this schedule in place of the project's.
{%- endif %}
CLOCK = """
import os, sys, time
import django

django.setup()
{%- if cookiecutter.task_queue == "database" %}

from django.conf import settings

from {{ cookiecutter.project_slug }}.queue.worker import QueueWorker
from {{ cookiecutter.project_slug }}.schedule import beside_worker
{%- else %}

from {{ cookiecutter.project_slug }}.schedule.management.commands.clock import run_clock
{%- endif %}
from {{ cookiecutter.project_slug }}.schedule.timetable import Job


def sleep():
    print(f"tick started at {time.time():.3f}", file=sys.stderr, flush=True)
    time.sleep(float(os.environ["TICK_SECONDS"]))


tick = Job(name="tick", cron="* * * * *", second="*", run=sleep)
{%- if cookiecutter.task_queue == "database" %}
beside_worker.SCHEDULE = [tick]  # what the worker's clock fires; tick runs in place
worker = QueueWorker(
    dead_after=settings.TASK_WORKER_DEAD_AFTER,
    queue_names=["*"],
    excluded_queue_names=[],
    interval=30,
    batch=False,
    backend_name="default",
    startup_delay=False,
    max_tasks=None,
    worker_id=f"clock-{os.getpid()}",
)
worker.configure_signals()
worker.run()
{%- else %}
run_clock(schedule=[tick])
{%- endif %}
"""

RAN = re.compile(r"^tick ran for (\S+)", re.MULTILINE)
ALREADY_RAN = re.compile(r"^tick already ran for (\S+)", re.MULTILINE)
STARTED_AND_RAN = re.compile(r"^tick started at (\S+)\n(?:.*\n)*?tick ran for (\S+)", re.MULTILINE)

# What the README promises: a job starts within LATENESS of its time, and with no job
# running the clock exits within STOP_SECONDS of SIGTERM. Both bounds leave room for a
# loaded machine; a clock 0.9 s late, or one that waits out a second, breaks them.
LATENESS = 0.5
STOP_SECONDS = 3
# How many times two clocks must both have fired before the test looks for a repeat.
SHARED_TIMES = {{ 20 if cookiecutter.task_queue == "database" else 3 }}


class Clock:
    """A clock process whose log is a file the test reads as it grows."""

    def __init__(self, *, database_url, log, tick_seconds=0):
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "INFO",
            "TICK_SECONDS": str(tick_seconds),
        }
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", CLOCK], cwd=PROJECT_DIR, env=env, stderr=output
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def text(self):
        return self.log.read_text()

    def ran(self):
        return RAN.findall(self.text())

    def runs(self):
        """(when the job started, the time it ran for), as Unix times, in order."""
        return [
            (float(started), datetime.fromisoformat(slot).timestamp())
            for started, slot in STARTED_AND_RAN.findall(self.text())
        ]

    def stop(self, *, within=STOP_SECONDS):
        """SIGTERM; the exit status, which must come within the given seconds."""
        self.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        status = self.process.wait(timeout=30)
        took = time.monotonic() - started
        assert took < within, f"the clock took {took:.1f} s to stop after SIGTERM"
        return status


def wait_for_clocks(condition, *, clocks, timeout=30):
    """Poll until condition() holds; fail with the clocks' logs when it does not in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or any(c.process.poll() is not None for c in clocks):
            pytest.fail("\n".join(clock.text() for clock in clocks))
        time.sleep(0.05)


def test_the_clock_fires_on_time_and_stops_cleanly_on_sigterm(live_database_url, tmp_path):
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log") as clock:
        wait_for_clocks(lambda: len(clock.runs()) >= 6, clocks=[clock])
        assert clock.stop() == 0
    assert "clock stopped" in clock.text()
    assert clock.text().rstrip().endswith("stopped"), "something ran after the clock stopped"
    runs = clock.runs()
    slots = [slot for _, slot in runs]
    assert [b - a for a, b in itertools.pairwise(slots)] == [1] * (len(slots) - 1)
    lateness = [started - slot for started, slot in runs]
    assert all(0 <= late < LATENESS for late in lateness), lateness


def test_a_clock_back_from_downtime_replays_nothing(live_database_url, tmp_path):
    """The guard remembers a run an hour ago; the clock runs the current time only."""
    LastRun.objects.create(job="tick", scheduled_for=timezone.now() - timedelta(hours=1))
    started = time.time()
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log") as clock:
        wait_for_clocks(lambda: len(clock.runs()) >= 3, clocks=[clock])
        assert clock.stop() == 0
    slots = [slot for _, slot in clock.runs()]
    assert min(slots) >= int(started), "a time from before the clock started ran"
    assert len(slots) == len(set(slots)) <= time.time() - int(started) + 1


def test_sigterm_lets_a_running_job_finish(live_database_url, tmp_path):
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log", tick_seconds=2) as clock:
        wait_for_clocks(lambda: "tick started" in clock.text(), clocks=[clock])
        assert clock.stop(within=2 + STOP_SECONDS) == 0
    stopping, finished = clock.text().split("clock stopping", 1)
    assert not RAN.search(stopping), "the job was meant to be running when SIGTERM came"
    assert RAN.search(finished), clock.text()
{%- if cookiecutter.task_queue == "database" %}


def test_a_job_fires_on_time_while_the_worker_runs_a_long_task(live_database_url, tmp_path):
    """The clock's threads are not the task's: a task of 8 s holds no job back."""
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log") as clock:
        wait_for_clocks(lambda: "clock started" in clock.text(), clocks=[clock])
        result = sleep_then_return.enqueue(8)
        task = DBTaskResult.objects.filter(id=result.id)
        wait_for_clocks(
            lambda: task.filter(status=TaskResultStatus.RUNNING).exists(), clocks=[clock]
        )
        task_started = time.time()

        def during_task():
            return [run for run in clock.runs() if run[0] > task_started]

        wait_for_clocks(lambda: len(during_task()) >= 4, clocks=[clock])
        assert task.get().status == TaskResultStatus.RUNNING, "the task ended too early"
        assert clock.stop(within=8 + STOP_SECONDS) == 0
    lateness = [started - slot for started, slot in during_task()]
    assert all(0 <= late < LATENESS for late in lateness), lateness
    assert task.get().status == TaskResultStatus.SUCCESSFUL
{%- endif %}
{%- if cookiecutter.task_queue != "database" %}


def test_a_burst_of_stop_signals_still_stops_the_clock_cleanly(live_database_url, tmp_path):
    """A process manager and `uv run` may both send SIGTERM, and Ctrl-C adds SIGINT."""
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log") as clock:
        wait_for_clocks(lambda: "clock started" in clock.text(), clocks=[clock])
        deadline = time.monotonic() + STOP_SECONDS
        while clock.process.poll() is None and time.monotonic() < deadline:
            for signum in (signal.SIGTERM, signal.SIGINT):
                clock.process.send_signal(signum)  # nothing once the process is gone
        assert clock.process.wait(timeout=1) == 0, clock.text()
    assert clock.text().rstrip().endswith("clock stopped")
{%- endif %}


def test_two_clocks_fire_each_time_once_and_replay_nothing(live_database_url, tmp_path):
    started = timezone.now().replace(microsecond=0)
    with (
        Clock(database_url=live_database_url, log=tmp_path / "first.log") as first,
        Clock(database_url=live_database_url, log=tmp_path / "second.log") as second,
    ):
        clocks = [first, second]

        def both_fired_often_enough():
            seen = [set(RAN.findall(c.text())) | set(ALREADY_RAN.findall(c.text())) for c in clocks]
            return len(seen[0] & seen[1]) >= SHARED_TIMES

        wait_for_clocks(both_fired_often_enough, clocks=clocks, timeout=30 + SHARED_TIMES)
        assert [clock.stop() for clock in clocks] == [0, 0]
    ran = [moment for clock in clocks for moment in clock.ran()]
    assert len(ran) == len(set(ran)), "a time ran twice"
    assert len(ran) >= SHARED_TIMES
    assert min(datetime.fromisoformat(moment) for moment in ran) >= started


@pytest.mark.parametrize("job", SCHEDULE, ids=lambda job: job.name)
def test_the_clock_and_the_timetable_agree_on_every_time(job):
    """APScheduler fires a job exactly at the times that runjob would claim."""
    trigger = trigger_for(job=job)
    previous, start = None, timezone.now()
    for _ in range(50):
        moment = trigger.get_next_fire_time(None, start)
        assert job.timetable.latest(moment) == moment
        if previous:
            assert job.timetable.latest(moment - timedelta(seconds=1)) == previous
        previous, start = moment, moment + timedelta(seconds=1)


@pytest.mark.parametrize(("cron", "night", "runs"), DAYLIGHT_SAVING)
def test_the_clock_follows_crons_daylight_saving_rule(settings, cron, night, runs):
    settings.TIME_ZONE = "Europe/London"
    trigger = trigger_for(job=Job(name="tonight", cron=cron, run=lambda: None))
    start, end = NIGHTS[night], NIGHTS[night] + timedelta(hours=6)
    fired, moment = [], trigger.get_next_fire_time(None, start)
    while moment < end:
        fired.append(moment - start)
        moment = trigger.get_next_fire_time(moment, moment)
    assert fired == runs
