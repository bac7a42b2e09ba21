"""What only PostgreSQL projects have: a server whose connections can drop."""

import pytest
from django.db import connection

from .conftest import wait_for
from .tasks import add


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no server whose connections can drop"
)
def test_a_worker_survives_losing_its_database_connections(start_worker):
    worker = start_worker()
    # Under load the worker may not have connected yet: drop its connections only
    # once it is waiting on LISTEN, or there would be nothing to lose.
    wait_for(lambda: listening_backends() > 0, what="the worker to LISTEN")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] > 0
    result = add.enqueue(1, 1)
    wait_for(
        lambda: result.refresh() or result.is_finished,
        what="the task after the connections dropped",
    )
    assert result.return_value == 2
    assert worker.process.poll() is None
    wait_for(lambda: "Database error" in worker.output(), what="the worker to notice")


def listening_backends():
    """How many connections to the test database wait on LISTEN (a worker's wake-up)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
        return cursor.fetchone()[0]
