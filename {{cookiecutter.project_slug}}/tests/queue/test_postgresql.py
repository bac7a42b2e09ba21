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
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    result = add.enqueue(1, 1)
    wait_for(
        lambda: result.refresh() or result.is_finished,
        what="the task after the connections dropped",
    )
    assert result.return_value == 2
    assert worker.process.poll() is None
    assert "Database error" in worker.output()
