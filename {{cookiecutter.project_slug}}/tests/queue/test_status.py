"""/healthz's queue figures cost the same however many finished tasks the table keeps."""

import pytest
from django.apps import apps
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult, get_date_max

from .tasks import add

pytestmark = pytest.mark.django_db


def rows(count, status):
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            args_kwargs={"args": [1, 2], "kwargs": {}},
            task_path=add.module_path,
            backend_name="default",
            status=status,
            run_after=get_date_max(),
        )
        for _ in range(count)
    )


def health_cost():
    """What the queue's /healthz figures cost the database: pages or rows read, or VM steps."""
    health = apps.get_app_config("queue").health
    if connection.vendor == "sqlite":
        steps = []
        connection.ensure_connection()
        connection.connection.set_progress_handler(lambda: steps.append(1) and 0, 10)
        try:
            health()
        finally:
            connection.connection.set_progress_handler(None, 10)
        return len(steps)
{%- if cookiecutter.database == "mysql" %}
    if connection.vendor == "mysql":
        return rows_read(health)
{%- endif %}
    with CaptureQueriesContext(connection) as queries:
        health()
    pages = 0
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {DBTaskResult._meta.db_table}")
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0][0]["Plan"]
            pages += plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
    return pages
{%- if cookiecutter.database == "mysql" %}


def rows_read(action):
    """How many index entries and rows the storage engine read while action ran.

    No ANALYZE TABLE first: on MySQL it commits, and the test's rows would outlive it.
    """

    def handler_reads():
        with connection.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
            return sum(int(value) for _, value in cursor.fetchall())

    before = handler_reads()
    action()
    return handler_reads() - before
{%- endif %}


def test_healthz_costs_the_same_at_20000_finished_tasks_as_at_none():
    rows(5, TaskResultStatus.READY)
    small = health_cost()
    rows(20_000, TaskResultStatus.SUCCESSFUL)
    large = health_cost()
    # A scan of the table costs hundreds of times more at 20000 rows.
    assert large <= small * 1.5 + 10, (small, large)


def test_healthz_counts_ready_tasks_up_to_its_cap(monkeypatch, client):
    monkeypatch.setattr("{{ cookiecutter.project_slug }}.queue.status.READY_COUNT_CAP", 3)
    rows(5, TaskResultStatus.READY)
    assert client.get("/healthz").json()["tasks_ready"] == 3
