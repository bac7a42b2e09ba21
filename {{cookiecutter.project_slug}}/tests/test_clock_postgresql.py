"""The clock through a PostgreSQL restart: it must keep firing afterwards."""

import os
import shlex
import subprocess

import pytest
from django.db import connection, connections

from .test_clock import Clock, wait_for_clocks

# A command that restarts the PostgreSQL server of the tests, such as
# "pg_ctlcluster --skip-systemctl-redirect 17 main restart". Without one, the test
# ends the clock's connections instead, which is what a restart does to the clock.
RESTART_COMMAND = os.environ.get("POSTGRES_RESTART_COMMAND", "")


def end_other_connections():
    """End every other session on the test database; return how many there were."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return len(cursor.fetchall())


def test_the_clock_keeps_firing_after_postgresql_restarts(live_database_url, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("only a database server restarts; the tests run on SQLite now")
    with Clock(database_url=live_database_url, log=tmp_path / "clock.log") as clock:
        wait_for_clocks(lambda: len(clock.ran()) >= 1, clocks=[clock])
        if RESTART_COMMAND:
            subprocess.run(shlex.split(RESTART_COMMAND), check=True)
            connections.close_all()
        else:
            assert end_other_connections() >= 1, "the clock held no connection to lose"
        before = len(clock.ran())
        wait_for_clocks(lambda: len(clock.ran()) >= before + 3, clocks=[clock])
        assert clock.stop() == 0
