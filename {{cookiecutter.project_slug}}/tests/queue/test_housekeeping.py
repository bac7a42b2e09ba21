"""The commands the scheduler runs, the status command, /healthz and the example page."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models.functions import Now
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from {{ cookiecutter.project_slug }}.queue.heartbeat import worker_beat
from {{ cookiecutter.project_slug }}.queue.models import Worker
from {{ cookiecutter.project_slug }}.queue.tasks import url_check

from .tasks import add

pytestmark = pytest.mark.django_db


def task_row(*, queue="default", status=TaskResultStatus.READY, age=timedelta(0), **fields):
    """A task result as a worker would have left it, `age` ago."""
    when = timezone.now() - age
    row = DBTaskResult.objects.create(
        args_kwargs={"args": [1, 2], "kwargs": {}},
        task_path=add.module_path,
        queue_name=queue,
        backend_name="default",
        status=status,
        **fields,
    )
    DBTaskResult.objects.filter(id=row.id).update(enqueued_at=when)
    return row


def run(command, *args):
    output = StringIO()
    call_command(command, *args, stdout=output)
    return output.getvalue()


def test_prune_deletes_old_finished_results_on_every_queue():
    old = timezone.now() - timedelta(days=20)
    for queue in ("default", "emails"):
        task_row(queue=queue, status=TaskResultStatus.SUCCESSFUL, finished_at=old)
        task_row(queue=queue, status=TaskResultStatus.FAILED, finished_at=old)
    recent = task_row(status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now())
    waiting = task_row()
    assert "Deleted 4 " in run("prune_tasks", "--days", "14")
    assert set(DBTaskResult.objects.values_list("id", flat=True)) == {recent.id, waiting.id}


def test_recover_puts_back_only_tasks_that_no_live_worker_runs():
    long_ago = timezone.now() - timedelta(minutes=5)
    orphan = task_row(status=TaskResultStatus.RUNNING, started_at=long_ago)
    busy = task_row(status=TaskResultStatus.RUNNING, started_at=long_ago)
    worker_beat(worker_id="alive", task_id=busy.id)
    assert "Put 1 task(s)" in run("recover_tasks")
    orphan.refresh_from_db()
    busy.refresh_from_db()
    assert orphan.status == TaskResultStatus.READY
    assert busy.status == TaskResultStatus.RUNNING


def test_recover_spares_a_task_that_just_started():
    task_row(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    assert "Put 0 task(s)" in run("recover_tasks")


def test_queue_status_shows_each_queue_the_workers_and_failures():
    task_row(age=timedelta(minutes=2))
    task_row(queue="emails")
    task_row(status=TaskResultStatus.FAILED, finished_at=timezone.now(), traceback="boom")
    worker_beat(worker_id="w1")
    output = run("queue_status")
    default = next(line for line in output.splitlines() if line.startswith("default"))
    ready, oldest, running, failed = default.split()[1:]
    assert (ready, running, failed) == ("1", "0", "1")
    assert float(oldest) >= 120
    assert any(line.startswith("emails") for line in output.splitlines())
    assert "w1" in output
    assert add.module_path in output.split("Failed tasks")[1]


def test_healthz_reports_ready_tasks_and_the_oldest_age(client):
    task_row(age=timedelta(seconds=90))
    task_row(run_after=timezone.now() + timedelta(hours=1))  # deferred: not ready yet
    body = client.get("/healthz").json()
    assert body["tasks_ready"] == 1
    assert body["tasks_oldest_seconds"] >= 90


def healthz(client):
    response = client.get("/healthz")
    body = response.json()
    return response.status_code, body["status"], body["worker"], body["workers_alive"]


def seen_ago(worker_id, seconds):
    """Date the worker's last heartbeat seconds back, by the database's clock."""
    Worker.objects.filter(id=worker_id).update(seen_at=Now() - timedelta(seconds=seconds))


def test_healthz_shows_whether_a_worker_is_alive_by_the_database_s_clock(client, settings):
    dead_after = settings.TASK_WORKER_DEAD_AFTER
    assert healthz(client) == (200, "ok", "down", 0)
    worker_beat(worker_id="w1")
    assert healthz(client) == (200, "ok", "up", 1)
    seen_ago("w1", dead_after - 2)
    assert healthz(client) == (200, "ok", "up", 1)
    seen_ago("w1", dead_after + 2)
    # Dead, and outside `manage.py serve`: shown, but the web stays in the routing.
    assert healthz(client) == (200, "ok", "down", 0)


def test_under_serve_healthz_answers_503_without_a_live_worker_on_this_machine(
    client, settings, monkeypatch
):
    dead_after = settings.TASK_WORKER_DEAD_AFTER
    monkeypatch.setenv("SERVE_PARTS", "web,worker")
    monkeypatch.setenv("SERVE_STARTED_AT", str(time.time()))
    # The tree has just started: its worker still has time for a first beat.
    assert healthz(client) == (200, "ok", "down", 0)
    monkeypatch.setenv("SERVE_STARTED_AT", str(time.time() - dead_after - 2))
    assert healthz(client) == (503, "unavailable", "down", 0)
    # Another machine's worker is alive, not this tree's.
    Worker.objects.create(id="elsewhere", host="another-machine", pid=1)
    assert healthz(client) == (503, "unavailable", "down", 1)
    worker_beat(worker_id="here")
    assert healthz(client) == (200, "ok", "up", 2)
    seen_ago("here", dead_after + 2)
    assert healthz(client) == (503, "unavailable", "down", 1)


def test_the_example_page_enqueues_and_answers_at_once(admin_client, settings):
    settings.TASK_EXAMPLE_URL = "http://127.0.0.1:9/"
    response = admin_client.post(reverse("queue:example"))
    assert response.status_code == 302
    queued = DBTaskResult.objects.get()
    assert queued.task_path == url_check.module_path
    assert queued.status == TaskResultStatus.READY
    assert queued.args_kwargs["kwargs"] == {"url": "http://127.0.0.1:9/"}
    assert b"READY" in admin_client.get(reverse("queue:example")).content


def test_the_example_page_is_for_staff_only(client):
    assert client.post(reverse("queue:example")).status_code == 302
    assert not DBTaskResult.objects.exists()
    assert not Worker.objects.exists()


def test_the_admin_lists_every_task_result(admin_client):
    rows = [task_row(status=status) for status in TaskResultStatus]
    changelist = reverse("admin:django_tasks_database_dbtaskresult_changelist")
    page = admin_client.get(changelist, {"all": ""}).content.decode()
    for row in rows:
        assert str(row.id) in page, row.status
