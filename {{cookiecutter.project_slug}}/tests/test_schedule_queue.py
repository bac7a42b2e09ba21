"""With the task queue, runjob only enqueues a job, and a worker runs it."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.fanout import FAN_OUT_PRIORITY
from {{ cookiecutter.project_slug }}.schedule.jobs import QUEUE_UPKEEP
from {{ cookiecutter.project_slug }}.schedule.models import LastRun

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_runjob_enqueues_the_job_below_urgent_work_and_a_worker_runs_it(live_database_url):
    expired = timezone.now() - timedelta(days=1)
    Session.objects.create(session_key="old", session_data="", expire_date=expired)
    call_command("runjob", "clearsessions")
    (queued,) = DBTaskResult.objects.all()
    assert (queued.status, queued.priority) == (TaskResultStatus.READY, FAN_OUT_PRIORITY)
    assert Session.objects.exists(), "runjob did the work itself"
    worker = [sys.executable, "manage.py", "worker", "--batch", "--no-startup-delay"]
    env = {**os.environ, "DATABASE_URL": live_database_url}
    subprocess.run(worker, cwd=PROJECT_DIR, env=env, check=True, capture_output=True)
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert not Session.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("job", QUEUE_UPKEEP, ids=lambda job: job.name)
def test_the_queue_upkeep_runs_in_place(job):
    call_command("runjob", job.name)
    assert LastRun.objects.filter(job=job.name).exists()
    assert not DBTaskResult.objects.exists()
