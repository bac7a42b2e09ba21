"""With the task queue, runjob only enqueues a job, and a worker runs it."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.fanout import BULK_PRIORITY
from {{ cookiecutter.project_slug }}.schedule.models import LastRun

from ..support import PROJECT_DIR


def run_worker_until_the_queue_is_empty(database_url, **env):
    """Run a real worker process on the test database until no task is ready."""
    worker = [sys.executable, "manage.py", "worker", "--batch", "--no-startup-delay"]
    env = {**os.environ, "DATABASE_URL": database_url, **env}
    subprocess.run(worker, cwd=PROJECT_DIR, env=env, check=True, capture_output=True)


def test_runjob_enqueues_the_job_below_urgent_work_and_a_worker_runs_it(live_database_url):
    expired = timezone.now() - timedelta(days=1)
    Session.objects.create(session_key="old", session_data="", expire_date=expired)
    call_command("runjob", "clearsessions")
    (queued,) = DBTaskResult.objects.all()
    assert (queued.status, queued.priority) == (TaskResultStatus.READY, BULK_PRIORITY)
    assert Session.objects.exists(), "runjob did the work itself"
    run_worker_until_the_queue_is_empty(live_database_url)
    queued.refresh_from_db()
    assert queued.status == TaskResultStatus.SUCCESSFUL
    assert not Session.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["recover_tasks", "prune_tasks"])
def test_the_queue_upkeep_runs_in_place(name):
    call_command("runjob", name)
    assert LastRun.objects.filter(job=name).exists()
    assert not DBTaskResult.objects.exists()


def test_a_bulk_job_queues_one_low_priority_task_per_item_for_the_worker(live_database_url):
    """runjob queues the job; the worker runs it, which queues a task per user, then those."""
    User = get_user_model()
    long_ago = timezone.now() - timedelta(days=200)
    dormant = [User.objects.create(username=f"u{n}", last_login=long_ago) for n in range(3)]
    User.objects.create(username="recent", last_login=timezone.now())

    call_command("runjob", "deactivate_dormant_users")
    (job,) = DBTaskResult.objects.all()
    assert job.task_path.endswith(".run_scheduled_job")
    run_worker_until_the_queue_is_empty(live_database_url, DORMANT_USER_DAYS="90")
    job.refresh_from_db()

    per_user = DBTaskResult.objects.exclude(pk=job.pk)
    assert sorted(each.args_kwargs["args"] for each in per_user) == [[u.pk] for u in dormant]
    for each in [job, *per_user]:
        assert each.priority == BULK_PRIORITY
        assert each.status == TaskResultStatus.SUCCESSFUL, each.traceback
    assert {each.task_path.rpartition(".")[2] for each in per_user} == {"deactivate_if_dormant"}
    assert list(User.objects.filter(is_active=False).order_by("pk")) == dormant
