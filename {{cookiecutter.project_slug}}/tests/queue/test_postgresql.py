"""What only PostgreSQL projects have: a server that restarts, and connections that drop."""

import os
import shlex
import subprocess

import pytest
from django.db import connection, connections

from ..support import wait_for
from .tasks import add

# A command that restarts the tests' PostgreSQL server, such as "pg_ctlcluster
# --skip-systemctl-redirect 17 main restart". Without one, the test ends the worker's
# connections instead, which is what a restart does to the worker.
RESTART_COMMAND = os.environ.get("POSTGRES_RESTART_COMMAND", "")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no server whose connections can drop"
)
def test_a_worker_waits_out_a_postgresql_restart(start_worker):
    worker = start_worker()
    # Under load the worker may not have connected yet: restart only once it is
    # waiting on LISTEN, or there would be nothing to lose.
    wait_for(lambda: listening_backends() > 0, what="the worker to LISTEN")
    if RESTART_COMMAND:
        subprocess.run(shlex.split(RESTART_COMMAND), check=True)
        connections.close_all()
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] > 0
    wait_for(lambda: "Database error" in worker.output(), what="the worker to notice")
    result = add.enqueue(1, 1)
    wait_for(
        lambda: result.refresh() or result.is_finished,
        timeout=60,
        what="the task after the restart",
    )
    assert result.return_value == 2
    assert worker.process.poll() is None


def listening_backends():
    """How many connections to the test database wait on LISTEN (a worker's wake-up)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
        )
        return cursor.fetchone()[0]
