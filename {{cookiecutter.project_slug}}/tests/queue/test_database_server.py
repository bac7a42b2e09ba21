"""What only projects on a database server have: a server that restarts, and connections
that drop."""

import pytest
from django.db import connection

from ..support import restart_or_end_other_sessions, wait_for
from .tasks import add


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite has no server whose connections can drop"
)
def test_a_worker_waits_out_a_database_restart(start_worker):
    worker = start_worker()
{%- if cookiecutter.database == "postgresql" %}
    # Under load the worker may not have connected yet: restart only once it is
    # waiting on LISTEN, or there would be nothing to lose.
    wait_for(lambda: listening_backends() > 0, what="the worker to LISTEN")
{%- elif cookiecutter.database == "mysql" %}
    # Under load the worker may not have connected yet: end the sessions only once it
    # polls on its watch connection beside the one it claims on, or ending them would
    # cost it nothing it notices (a dropped idle connection is reopened in silence).
    wait_for(lambda: other_sessions() >= 2, what="the worker to poll")
{%- endif %}
    restart_or_end_other_sessions()
    wait_for(lambda: "Database error" in worker.output(), what="the worker to notice")
    result = add.enqueue(1, 1)
    wait_for(
        lambda: result.refresh() or result.is_finished,
        timeout=60,
        what="the task after the restart",
    )
    assert result.return_value == 2
    assert worker.process.poll() is None
{%- if cookiecutter.database == "postgresql" %}


def listening_backends():
    """How many connections to the test database wait on LISTEN (a worker's wake-up)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
        return cursor.fetchone()[0]
{%- endif %}
{%- if cookiecutter.database == "mysql" %}


def other_sessions():
    """How many other sessions are connected to the test database: a polling worker's two."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.processlist"
            " WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        )
        return cursor.fetchone()[0]
{%- endif %}
